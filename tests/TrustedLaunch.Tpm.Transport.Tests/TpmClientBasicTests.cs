using System.Security.Cryptography;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;
using TrustedLaunch.Testing.Swtpm;

namespace TrustedLaunch.Tpm.Transport.Tests;

[IntegrationTest]
public sealed class TpmClientBasicTests
{
    [Fact]
    public void StartupSelfTestGetCapability_FreshSwtpm_ReportsLibtpmsIdentity()
    {
        using var bed = new TpmTestBed(new SwtpmOptions { StartupClear = false });
        bed.Control.Init();
        bed.Client.Startup(TpmSu.Clear);
        bed.Client.SelfTest(fullTest: true);
        var (_, testResult) = bed.Client.GetTestResult();
        Assert.True(testResult.IsSuccess, testResult.Describe());

        var props = bed.Client.GetTpmProperties();
        Assert.Equal(0x49424D00u, props[TpmPt.Manufacturer]); // "IBM\0": libtpms
        Assert.Equal(0x322E3000u, props[TpmPt.FamilyIndicator]); // "2.0\0"
        Assert.Equal(24u, props[TpmPt.PcrCount]);

        var banks = bed.Client.GetPcrBanks();
        Assert.Contains(banks.Selections, s => s.Hash == TpmAlgId.Sha256 && s.Indices.Count == 24);

        var algs = bed.Client.GetCapability(TpmCap.Algs, 0, 64).Data.Algorithms;
        Assert.Contains(algs, a => a.Alg == TpmAlgId.Rsa && a.Attributes.HasFlag(TpmaAlgorithm.Asymmetric));
        Assert.Contains(algs, a => a.Alg == TpmAlgId.Sha256 && a.Attributes.HasFlag(TpmaAlgorithm.Hash));

        // A second Startup is refused with TPM_RC_INITIALIZE, decoded by name.
        var e = Assert.Throws<TpmResponseException>(() => bed.Client.Startup(TpmSu.Clear));
        Assert.Equal("TPM_RC_INITIALIZE", e.ResponseCode.Name);
        Assert.Equal(TpmCc.Startup, e.Command);
        bed.Client.Shutdown(TpmSu.Clear);
    }

    [Fact]
    public void GetRandom_ThirtyTwoBytes_ReturnsFreshBytes()
    {
        using var bed = new TpmTestBed();
        byte[] a = bed.Client.GetRandom(32);
        byte[] b = bed.Client.GetRandom(32);
        Assert.Equal(32, a.Length);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void PcrExtend_Sha256AndSha1_MatchesSoftwareReplayAndTpm2PcrRead()
    {
        using var bed = new TpmTestBed();
        byte[] m1 = SHA256.HashData("first"u8), m2 = SHA256.HashData("second"u8);
        byte[] s1 = SHA1.HashData("first"u8);
        bed.Client.PcrExtend(16, [new TpmtHa(TpmAlgId.Sha256, m1), new TpmtHa(TpmAlgId.Sha1, s1)]);
        bed.Client.PcrExtend(16, [new TpmtHa(TpmAlgId.Sha256, m2)]);

        byte[] expected = new byte[32];
        expected = SHA256.HashData([.. expected, .. m1]);
        expected = SHA256.HashData([.. expected, .. m2]);
        byte[] expectedSha1 = SHA1.HashData([.. new byte[20], .. s1]);

        var values = bed.Client.ReadPcrs(new TpmlPcrSelection([
            new TpmsPcrSelection(TpmAlgId.Sha256, Enumerable.Range(0, 24).ToArray()),
            new TpmsPcrSelection(TpmAlgId.Sha1, [16]),
        ]));
        Assert.Equal(25, values.Count);
        Assert.Equal(expected, values[(TpmAlgId.Sha256, 16)]);
        Assert.Equal(expectedSha1, values[(TpmAlgId.Sha1, 16)]);
        Assert.Equal(new byte[32], values[(TpmAlgId.Sha256, 0)]);

        string text = bed.Tool("tpm2_pcrread", "sha256:16").StandardOutput;
        Assert.Contains("0x" + Convert.ToHexString(expected), text, StringComparison.OrdinalIgnoreCase);

        bed.Client.PcrReset(16);
        Assert.Equal(new byte[32], bed.Client.ReadPcrs(TpmlPcrSelection.Of(TpmAlgId.Sha256, 16))[(TpmAlgId.Sha256, 16)]);
    }

    [Fact]
    public void PcrExtend_ExtendedByTpm2Tools_ReadBackByClient()
    {
        using var bed = new TpmTestBed();
        byte[] digest = SHA256.HashData("by tpm2-tools"u8);
        bed.Tool("tpm2_pcrextend", $"23:sha256={Convert.ToHexString(digest)}");
        byte[] expected = SHA256.HashData([.. new byte[32], .. digest]);
        Assert.Equal(expected, bed.Client.ReadPcrs(TpmlPcrSelection.Of(TpmAlgId.Sha256, 23))[(TpmAlgId.Sha256, 23)]);
    }

    [Fact]
    public void HierarchyChangeAuth_OwnerPassword_OldAuthRefusedNewAccepted()
    {
        using var bed = new TpmTestBed();
        byte[] password = "s3cret"u8.ToArray();
        bed.Client.HierarchyChangeAuth(TpmHandles.Owner, password);

        var e = Assert.Throws<TpmResponseException>(() => bed.Client.CreatePrimary(TpmHandles.Owner, KeyTemplates.EccStorageKey()));
        Assert.Equal("TPM_RC_BAD_AUTH", e.ResponseCode.Name);
        Assert.Equal(1, e.ResponseCode.SessionNumber);

        var key = bed.Client.CreatePrimary(TpmHandles.Owner, KeyTemplates.EccStorageKey(), hierarchyAuth: TpmAuthorization.Password(password));
        bed.Client.FlushContext(key.Handle);
        // tpm2-tools sees the same owner password.
        Assert.NotEqual(0, bed.TryTool("tpm2_changeauth", "-c", "owner", "-p", "wrong", "new").ExitCode);
        bed.Tool("tpm2_changeauth", "-c", "owner", "-p", "s3cret");
        var again = bed.Client.CreatePrimary(TpmHandles.Owner, KeyTemplates.EccStorageKey());
        bed.Client.FlushContext(again.Handle);
    }

    [Fact]
    public void PcrAllocate_Sha256Only_TakesEffectAfterRestart()
    {
        using var bed = new TpmTestBed();
        var result = bed.Client.PcrAllocate(new TpmlPcrSelection([
            new TpmsPcrSelection(TpmAlgId.Sha1, []),
            new TpmsPcrSelection(TpmAlgId.Sha256, Enumerable.Range(0, 24).ToArray()),
            new TpmsPcrSelection(TpmAlgId.Sha384, []),
            new TpmsPcrSelection(TpmAlgId.Sha512, []),
        ]));
        Assert.True(result.Success);
        bed.Client.Shutdown();
        bed.Control.Init();
        bed.Client.Startup();
        var banks = bed.Client.GetPcrBanks();
        Assert.Equal(24, banks.Selections.Single(s => s.Hash == TpmAlgId.Sha256).Indices.Count);
        Assert.Empty(banks.Selections.Single(s => s.Hash == TpmAlgId.Sha1).Indices);
        Assert.Contains("sha1: [ ]", bed.Tool("tpm2_getcap", "pcrs").StandardOutput, StringComparison.Ordinal);
    }
}
