using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Testing;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.VTpm.Host.Tests;

/// <summary>tpm2-tools (tpm2-tss swtpm TCTI) against the real tl-vtpm process.</summary>
[IntegrationTest]
public sealed class Tpm2ToolsTests
{
    private static ToolResult Tool(TlVtpmServer server, string tool, params string[] args)
    {
        ToolResult r = ExternalTool.Run(tool, args, environment: server.ToolEnvironment, workingDirectory: Path.GetDirectoryName(server.DataSocket));
        Assert.True(r.ExitCode == 0, $"{tool} {string.Join(' ', args)}: {r}\nlog:\n{File.ReadAllText(server.LogPath)}");
        return r;
    }

    [Fact]
    public void Tpm2Tools_StartupGetcapPcrs_Work()
    {
        ManufacturedVTpm vtpm = ManufacturedVTpm.Create("vm-tools");
        using var server = TlVtpmServer.Start(vtpm, notNeedInit: false);
        // Without not-need-init the TPM starts with CMD_INIT (tpm2-tss Reset is not used by tools, so send it ourselves).
        server.Control().Init();
        Tool(server, "tpm2_startup", "-c");
        string props = Tool(server, "tpm2_getcap", "properties-fixed").StandardOutput;
        Assert.Contains("TPM2_PT_FAMILY_INDICATOR", props, StringComparison.Ordinal);
        string banks = Tool(server, "tpm2_getcap", "pcrs").StandardOutput;
        Assert.Contains("sha256", banks, StringComparison.Ordinal);
        Assert.Contains("sha1", banks, StringComparison.Ordinal);
        string handles = Tool(server, "tpm2_getcap", "handles-persistent").StandardOutput;
        Assert.Contains("0x81000003", handles, StringComparison.Ordinal);
        Assert.Contains("0x81010001", handles, StringComparison.Ordinal);

        string before = Tool(server, "tpm2_pcrread", "sha256:16").StandardOutput;
        Assert.Contains("0x0000000000000000000000000000000000000000000000000000000000000000", before, StringComparison.Ordinal);
        Tool(server, "tpm2_pcrextend", "16:sha256=" + new string('a', 64));
        string after = Tool(server, "tpm2_pcrread", "sha256:16").StandardOutput;
        byte[] expected = SHA256.HashData([.. new byte[32], .. Convert.FromHexString(new string('a', 64))]);
        Assert.Contains("0x" + Convert.ToHexString(expected), after, StringComparison.Ordinal);
    }

    [Fact]
    public void Tpm2Tools_NvreadCertificates_ChainToPlatformCaWithOpenssl()
    {
        ManufacturedVTpm vtpm = ManufacturedVTpm.Create("vm-certs");
        using var server = TlVtpmServer.Start(vtpm);
        string dir = Path.GetDirectoryName(server.DataSocket)!;
        FilePlatformCa ca = ManufacturedVTpm.Ca;
        string root = PlatformCaLayout.CertificatePath(ca.Directory, PlatformCaLayout.RootName);
        foreach ((VTpmKeySlot slot, string intermediate) in new[]
                 {
                     (VTpmLayout.EkRsa, PlatformCaLayout.EndorsementKeyCaName),
                     (VTpmLayout.EkEcc, PlatformCaLayout.EndorsementKeyCaName),
                     (VTpmLayout.Ak, PlatformCaLayout.AttestationKeyCaName),
                 })
        {
            string der = Path.Combine(dir, slot.Role + ".der");
            Tool(server, "tpm2_nvread", $"0x{slot.CertificateIndex:X8}", "-C", "o", "-o", der);
            using var certificate = X509CertificateLoader.LoadCertificateFromFile(der);
            Assert.Contains($"CN={TestVmIds.For("vm-certs"):D}", certificate.Subject, StringComparison.Ordinal);
            string pem = Path.Combine(dir, slot.Role + ".pem");
            File.WriteAllText(pem, certificate.ExportCertificatePem());
            ToolResult verify = ExternalTool.Run("openssl", ["verify", "-CAfile", root, "-untrusted",
                Path.Combine(ca.Directory, intermediate + ".crt"), pem]);
            Assert.True(verify.ExitCode == 0 && verify.StandardOutput.Contains(": OK", StringComparison.Ordinal), verify.ToString());
            // and not by the other intermediate
            string wrong = intermediate == PlatformCaLayout.EndorsementKeyCaName ? PlatformCaLayout.AttestationKeyCaName : PlatformCaLayout.EndorsementKeyCaName;
            ToolResult cross = ExternalTool.Run("openssl", ["verify", "-CAfile", root, "-untrusted", Path.Combine(ca.Directory, wrong + ".crt"), pem]);
            Assert.NotEqual(0, cross.ExitCode);
        }

        // The EK the certificate certifies is the EK tpm2_createek derives (template L-1) in this TPM.
        Tool(server, "tpm2_createek", "-c", Path.Combine(dir, "ek.ctx"), "-G", "rsa", "-u", Path.Combine(dir, "ek.pub"), "-f", "pem");
        string ekPem = File.ReadAllText(Path.Combine(dir, "ek.pub"));
        Assert.Equal(Normalize(vtpm.Identity.Key("ek-rsa2048").PublicKeyPem!), Normalize(ekPem));
    }

    [Fact]
    public void Tpm2Tools_QuoteWithAk_Tpm2CheckquoteAccepts()
    {
        ManufacturedVTpm vtpm = ManufacturedVTpm.Create("vm-quote");
        using var server = TlVtpmServer.Start(vtpm);
        string dir = Path.GetDirectoryName(server.DataSocket)!;
        string akPem = Path.Combine(dir, "ak.pem");
        Tool(server, "tpm2_readpublic", "-c", "0x81000003", "-f", "pem", "-o", akPem);
        Assert.Equal(Normalize(vtpm.Identity.Key("ak-rsa2048").PublicKeyPem!), Normalize(File.ReadAllText(akPem)));
        Tool(server, "tpm2_pcrextend", "0:sha256=" + new string('b', 64));
        string nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        Tool(server, "tpm2_quote", "-c", "0x81000003", "-l", "sha256:0,1,2,3,4,5,6,7", "-q", nonce,
            "-m", Path.Combine(dir, "quote.msg"), "-s", Path.Combine(dir, "quote.sig"), "-o", Path.Combine(dir, "quote.pcrs"), "-g", "sha256");
        Tool(server, "tpm2_checkquote", "-u", akPem, "-m", Path.Combine(dir, "quote.msg"), "-s", Path.Combine(dir, "quote.sig"),
            "-f", Path.Combine(dir, "quote.pcrs"), "-g", "sha256", "-q", nonce);
        // A different nonce must be refused: the check can fail.
        ToolResult wrong = ExternalTool.Run("tpm2_checkquote", ["-u", akPem, "-m", Path.Combine(dir, "quote.msg"), "-s", Path.Combine(dir, "quote.sig"),
            "-f", Path.Combine(dir, "quote.pcrs"), "-g", "sha256", "-q", "00" + nonce[2..]], environment: server.ToolEnvironment);
        Assert.NotEqual(0, wrong.ExitCode);
    }

    private static string Normalize(string pem) => pem.Replace("\r", "", StringComparison.Ordinal).Trim();
}
