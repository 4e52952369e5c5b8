using System.Security.Cryptography;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport.Tests;

/// <summary>EK templates, Create/Load/ReadPublic/EvictControl and policy sessions against swtpm, cross-checked with tpm2-tools.</summary>
[IntegrationTest]
public sealed class ObjectTests
{
    [Theory]
    [InlineData("rsa")]
    [InlineData("ecc")]
    public void CreatePrimary_EkTemplate_NameMatchesTpm2CreateEk(string alg)
    {
        using var bed = new TpmTestBed();
        var ek = bed.CreateEk(alg == "rsa" ? EkTemplates.RsaL1 : EkTemplates.EccL2);
        bed.Client.FlushContext(ek.Handle);
        Assert.Equal(TpmtPublic.ComputeName(TpmAlgId.Sha256, ek.PublicBytes), ek.Name);
        Assert.Equal(ek.Name, ek.Public.ComputeName());
        Assert.Equal(ek.PublicBytes, ek.Public.ToBytes());
        Assert.Equal(EkTemplates.LowRangeAttributes, ek.Public.ObjectAttributes);

        bed.Tool("tpm2_createek", "-c", "ek.ctx", "-G", alg, "-u", "ek.pub");
        bed.Tool("tpm2_readpublic", "-c", "ek.ctx", "-n", "ek.name");
        Assert.Equal(ek.Name, File.ReadAllBytes(bed.PathOf("ek.name")));
        Assert.Equal(ek.Public, TpmtPublic.ParseEither(File.ReadAllBytes(bed.PathOf("ek.pub"))));
    }

    [Fact]
    public void PolicySecretEndorsement_PolicyDigest_IsTcgDefaultEkPolicy()
    {
        using var bed = new TpmTestBed();
        var session = bed.Client.StartAuthSession(TpmSe.Trial);
        bed.Client.PolicySecret(TpmHandles.Endorsement, session);
        Assert.Equal(EkTemplates.PolicyASha256.ToArray(), bed.Client.PolicyGetDigest(session.Handle));
        bed.Client.FlushContext(session.Handle);
    }

    [Fact]
    public void CreateLoadEvict_AkUnderSrk_PersistentAtAzureHandleSeenByTpm2Tools()
    {
        using var bed = new TpmTestBed();
        var srk = bed.Client.CreatePrimary(TpmHandles.Owner, KeyTemplates.RsaStorageKey());
        var created = bed.Client.Create(srk.Handle, KeyTemplates.RsaAttestationKey());
        var (handle, name) = bed.Client.Load(srk.Handle, created.Private, created.Public);
        Assert.Equal(created.Public.ComputeName(), name);
        var read = bed.Client.ReadPublic(handle);
        Assert.Equal(name, read.Name);
        Assert.Equal(created.PublicBytes, read.PublicBytes);

        bed.Client.EvictControl(handle, TpmHandles.WellKnown.AzureAkPersistent);
        bed.Client.FlushContext(handle);
        bed.Client.FlushContext(srk.Handle);
        Assert.Contains(TpmHandles.WellKnown.AzureAkPersistent, bed.Client.GetHandles(0x81000000));
        Assert.Contains("0x81000003", bed.Tool("tpm2_getcap", "handles-persistent").StandardOutput, StringComparison.Ordinal);
        bed.Tool("tpm2_readpublic", "-c", "0x81000003", "-n", "ak.name");
        Assert.Equal(name, File.ReadAllBytes(bed.PathOf("ak.name")));

        bed.Client.EvictControl(TpmHandles.WellKnown.AzureAkPersistent, TpmHandles.WellKnown.AzureAkPersistent);
        Assert.DoesNotContain(TpmHandles.WellKnown.AzureAkPersistent, bed.Client.GetHandles(0x81000000));
        var e = Assert.Throws<TpmResponseException>(() => bed.Client.ReadPublic(TpmHandles.WellKnown.AzureAkPersistent));
        Assert.Equal("TPM_RC_HANDLE", e.ResponseCode.Name);
        Assert.Equal(1, e.ResponseCode.HandleNumber);
    }

    [Fact]
    public void LoadExternal_EkPublic_NameMatches()
    {
        using var bed = new TpmTestBed();
        var ek = bed.CreateEk(EkTemplates.EccL2);
        bed.Client.FlushContext(ek.Handle);
        var (handle, name) = bed.Client.LoadExternalPublic(ek.Public with { ObjectAttributes = ek.Public.ObjectAttributes & ~TpmaObject.FixedTpm & ~TpmaObject.FixedParent & ~TpmaObject.SensitiveDataOrigin | TpmaObject.UserWithAuth }, TpmHandles.Null);
        Assert.Equal(2 + 32, name.Length);
        bed.Client.FlushContext(handle);
        Assert.NotEqual(ek.Name, name); // different attributes, different Name: the Name binds the whole public area
    }

    [Fact]
    public void Create_WithUserAuthAndNvRandom_TpmRejectsWrongPassword()
    {
        using var bed = new TpmTestBed();
        var srk = bed.Client.CreatePrimary(TpmHandles.Owner, KeyTemplates.EccStorageKey());
        byte[] password = RandomNumberGenerator.GetBytes(16);
        var created = bed.Client.Create(srk.Handle, KeyTemplates.EccAttestationKey(), userAuth: password);
        var (handle, _) = bed.Client.Load(srk.Handle, created.Private, created.Public);
        var e = Assert.Throws<TpmResponseException>(() => bed.Client.Quote(handle, [], TpmlPcrSelection.Of(TpmAlgId.Sha256, 0)));
        Assert.Equal("TPM_RC_AUTH_FAIL", e.ResponseCode.Name);
        var ok = bed.Client.Quote(handle, [], TpmlPcrSelection.Of(TpmAlgId.Sha256, 0), signAuth: TpmAuthorization.Password(password));
        Assert.True(QuoteVerifier.Verify(created.Public, ok.AttestBytes, ok.SignatureBytes, [], true, bed.Client.ReadPcrs(TpmlPcrSelection.Of(TpmAlgId.Sha256, 0))).IsValid);
    }
}
