using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Qemu;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.SecureBoot.Tests;

/// <summary>
/// Debian 12's shim carries two Microsoft signatures, one per CA generation: the verdict names, per signature, the db CA
/// that admits it on its own, so that a 2011-only store is seen to rest on one signature only.
/// </summary>
[IntegrationTest]
public sealed class DualSignedShimAdmissionTests
{
    [Fact]
    public void Verify_ShimOnCombinedTemplate_EachSignatureNamesItsCa()
    {
        SecureBootVerdict verdict = Verify(SecureBootTemplate.Microsoft);

        Assert.True(verdict.Allowed, verdict.Message);
        Assert.Equal(2, verdict.Signatures.Count);
        Assert.Equal(SignatureOutcome.TrustedByDb, verdict.Signatures[0].Outcome);
        Assert.Contains("Microsoft Corporation UEFI CA 2011", verdict.Signatures[0].AdmittedBy!.Subject, StringComparison.Ordinal);
        Assert.Equal(SignatureOutcome.NotNeeded, verdict.Signatures[1].Outcome);
        Assert.Contains("Microsoft UEFI CA 2023", verdict.Signatures[1].AdmittedBy!.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ShimOn2011Template_SecondSignatureAdmittedByNone()
    {
        SecureBootVerdict verdict = Verify(SecureBootTemplate.Microsoft2011);

        Assert.True(verdict.Allowed, verdict.Message);
        Assert.Contains("Microsoft Corporation UEFI CA 2011", verdict.Signatures[0].AdmittedBy!.Subject, StringComparison.Ordinal);
        Assert.Equal(SignatureOutcome.NotNeeded, verdict.Signatures[1].Outcome);
        Assert.Null(verdict.Signatures[1].AdmittedBy);
        Assert.Contains("chains to no db certificate", verdict.Signatures[1].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ShimOn2023Template_AdmittedByTheSecondSignature()
    {
        SecureBootVerdict verdict = Verify(SecureBootTemplate.Microsoft2023);

        Assert.True(verdict.Allowed, verdict.Message);
        Assert.Equal(SignatureOutcome.NotTrusted, verdict.Signatures[0].Outcome);
        Assert.Null(verdict.Signatures[0].AdmittedBy);
        Assert.Equal(SignatureOutcome.TrustedByDb, verdict.Signatures[1].Outcome);
        Assert.Contains("Microsoft UEFI CA 2023", verdict.MatchedEntry!.Subject, StringComparison.Ordinal);
    }

    private static SecureBootVerdict Verify(SecureBootTemplate template)
    {
        using var pk = PlatformKeyGenerator.Generate("TL test PK");
        OvmfVariableStore store = SecureBootStoreFactory.Create(new SecureBootStoreOptions { Template = template, PlatformKey = pk.RawData });
        return FirmwareImageVerifier.Verify(File.ReadAllBytes(DebianBootChain.Shim), ImageSecurityDatabases.FromVariableStore(store));
    }
}
