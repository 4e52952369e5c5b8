using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Storage;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;
using TrustedLaunch.VTpm.Engine;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.VTpm.State;

namespace TrustedLaunch.VTpm.Tests.Identity;

[IntegrationTest]
public sealed class VTpmManufacturerTests
{
    [Fact]
    public void Manufacture_FreshState_ProvisionsCertifiedIdentityThatSurvivesReopen()
    {
        var memory = new EphemeralNonVolatileStore();
        var store = new VTpmStateStore(memory, "memory");
        VTpmIdentity identity = VTpmManufacturer.Manufacture(store, TestPki.Ca, new VTpmManufactureOptions { VmId = TestVmIds.For("vm-0001") });

        Assert.Equal(TestVmIds.For("vm-0001").ToString("D"), identity.VmId);
        Assert.Equal(["sha1", "sha256"], identity.PcrBanks.Order(StringComparer.Ordinal));
        Assert.Equal(["0x81000003", "0x81010001", "0x81010002"], identity.PersistentHandles);
        Assert.Equal(["0x01C00002", "0x01C0000A", "0x01C101D0"], identity.NvIndices);
        foreach (VTpmKeyIdentity key in identity.Keys)
        {
            using var certificate = X509Certificate2.CreateFromPem(key.CertificatePem!);
            string issuer = key.Role.StartsWith("ek", StringComparison.Ordinal) ? "vTPM EK CA" : "vTPM AK CA";
            Assert.Contains(issuer, certificate.Issuer, StringComparison.Ordinal);
            // the certificate certifies exactly the key the TPM holds
            Assert.Equal(key.PublicKeyPem, System.Security.Cryptography.PemEncoding.WriteString("PUBLIC KEY", certificate.PublicKey.ExportSubjectPublicKeyInfo()));
            Assert.NotNull(TpmCertificateBuilder.ReadTpmDescription(certificate));
        }

        // Reopen from what was persisted: same EK, certificates intact.
        VTpmStateImage image = store.Load(LibTpmsEngine.LibraryVersion);
        using LibTpmsEngine engine = LibTpmsEngine.Open(store, image);
        engine.Initialize();
        using var client = new TpmClient(engine, ownsTransport: false);
        client.Startup(TpmSu.Clear);
        VTpmIdentity again = VTpmIdentityReader.Read(client, LibTpmsEngine.LibraryVersion);
        Assert.Equal(identity.Keys.Select(k => k.Name), again.Keys.Select(k => k.Name));
        Assert.Equal(identity.Keys.Select(k => k.CertificatePem), again.Keys.Select(k => k.CertificatePem));

        // The EK is the key the EK template derives from this TPM's EPS: re-creating it gives the same Name.
        CreatePrimaryResult ek = client.CreatePrimary(TpmHandles.Endorsement, EkTemplates.RsaL1);
        Assert.Equal(identity.Key("ek-rsa2048").Name, Convert.ToHexStringLower(ek.Name));
        client.FlushContext(ek.Handle);
    }

    [Fact]
    public void Manufacture_Sha256Only_AllocatesOneBank()
    {
        var store = new VTpmStateStore(new EphemeralNonVolatileStore(), "memory");
        VTpmIdentity identity = VTpmManufacturer.Manufacture(store, TestPki.Ca,
            new VTpmManufactureOptions { VmId = TestVmIds.For("vm-banks"), PcrBanks = [TpmAlgId.Sha256] });
        Assert.Equal(["sha256"], identity.PcrBanks);
    }

    [Fact]
    public void Manufacture_Twice_GivesDistinctEndorsementKeys()
    {
        VTpmIdentity a = VTpmManufacturer.Manufacture(new VTpmStateStore(new EphemeralNonVolatileStore(), "a"), TestPki.Ca, new() { VmId = TestVmIds.For("a") });
        VTpmIdentity b = VTpmManufacturer.Manufacture(new VTpmStateStore(new EphemeralNonVolatileStore(), "b"), TestPki.Ca, new() { VmId = TestVmIds.For("b") });
        Assert.NotEqual(a.Key("ek-rsa2048").Name, b.Key("ek-rsa2048").Name);
        Assert.NotEqual(a.Key("ek-eccp256").Name, b.Key("ek-eccp256").Name);
    }

    [Fact]
    public void EkCertificate_OpensslParses_TcgExtensionsPresent()
    {
        var store = new VTpmStateStore(new EphemeralNonVolatileStore(), "memory");
        VTpmIdentity identity = VTpmManufacturer.Manufacture(store, TestPki.Ca, new VTpmManufactureOptions { VmId = TestVmIds.For("vm-openssl") });
        string dir = RepositoryPaths.NewTempDirectory();
        string pem = Path.Combine(dir, "ek.pem");
        File.WriteAllText(pem, identity.Key("ek-rsa2048").CertificatePem);
        ToolResult text = ExternalTool.Run("openssl", ["x509", "-in", pem, "-noout", "-text"]);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("2.23.133.8.1", text.StandardOutput, StringComparison.Ordinal); // EK EKU
        Assert.Contains("X509v3 Subject Alternative Name: critical", text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Key Encipherment", text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"CN = {TestVmIds.For("vm-openssl"):D}", text.StandardOutput, StringComparison.Ordinal);
    }
}
