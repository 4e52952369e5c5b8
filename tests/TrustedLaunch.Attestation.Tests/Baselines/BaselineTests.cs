using System.Security.Cryptography;
using System.Text;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Attestation.Tests.Verification;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Attestation.Tests.Baselines;

[Collection(GenuineEvidenceGroup.Name)]
[IntegrationTest]
public sealed class BaselineTests(GenuineEvidenceFactory factory)
{
    private AttestationResult Verify(byte[] log, AttestationBaseline? baseline = null, ReferencePolicy? policy = null)
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        return Verifiers.Cached.Verify(factory.Attest(log, nonce), factory.Expect(nonce, baseline, policy));
    }

    private AttestationBaseline LearnFirstBoot() =>
        AttestationBaseline.Learn(Verify(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture)));

    [Fact]
    public void Verify_SameBootAgainstLearnedBaseline_PassesBothStages()
    {
        AttestationResult result = Verify(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture), LearnFirstBoot());
        Assert.True(result.Passed, result.Failure?.ToString());
        Assert.Equal((BaselineVerdict.Pass, BaselineVerdict.Pass), (result.EarlyBoot, result.LateBoot));
        Assert.Empty(result.Deviations);
    }

    [Fact]
    public void Verify_ChangedCommandLine_LateBootDeviationNamesPcr8AndTheChange()
    {
        AttestationResult result = Verify(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.ChangedCmdlineCapture), LearnFirstBoot());

        Assert.False(result.Passed);
        Assert.Equal(AttestationFailureReason.BaselineDeviation, result.Failure!.Reason);
        Assert.Equal("PCR 8", result.Failure.Component);
        Assert.Equal((BaselineVerdict.Pass, BaselineVerdict.Fail), (result.EarlyBoot, result.LateBoot));
        BaselineDeviation pcr8 = Assert.Single(result.Deviations, d => d.Pcr == 8);
        Assert.Contains("kernel command line changed from", pcr8.Description, StringComparison.Ordinal);
        Assert.Contains("lockdown=integrity tl.variant=2", pcr8.Description, StringComparison.Ordinal);
        Assert.Contains("grub command added 'set tlvar=1'", pcr8.Description, StringComparison.Ordinal);
        Assert.NotEqual(pcr8.Expected, pcr8.Actual);
        BaselineDeviation pcr9 = Assert.Single(result.Deviations, d => d.Pcr == 9);
        Assert.Contains("grub.cfg digest changed from", pcr9.Description, StringComparison.Ordinal);
        Assert.Equal([8, 9], result.Deviations.Select(d => d.Pcr));
    }

    [Fact]
    public void Verify_SecureBootDisabled_EarlyBootDeviationNamesPcr7()
    {
        byte[] sbOff = EventLogEditor.WithSecureBootDisabled(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture));
        AttestationResult result = Verify(sbOff, LearnFirstBoot());

        Assert.Equal(AttestationFailureReason.BaselineDeviation, result.Failure!.Reason);
        Assert.Equal("PCR 7", result.Failure.Component);
        Assert.StartsWith("PCR 7: Secure Boot disabled", result.Failure.Message, StringComparison.Ordinal);
        Assert.Equal((BaselineVerdict.Fail, BaselineVerdict.Pass), (result.EarlyBoot, result.LateBoot));
        Assert.False(result.BootState!.SecureBootEnabled);
    }

    [Fact]
    public void Verify_SecureBootDisabledWithoutBaseline_MinimumPolicyFailsPcr7()
    {
        byte[] sbOff = EventLogEditor.WithSecureBootDisabled(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture));
        AttestationResult result = Verify(sbOff);
        Assert.Equal(AttestationFailureReason.PolicyDeviation, result.Failure!.Reason);
        Assert.Equal("PCR 7", result.Failure.Component);
        Assert.Contains("Secure Boot disabled", result.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Learn_AfterDeviation_RelearnedBaselineAcceptsNewBoot()
    {
        byte[] cmdline2 = GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.ChangedCmdlineCapture);
        AttestationResult deviated = Verify(cmdline2, LearnFirstBoot());
        Assert.Equal(AttestationFailureReason.BaselineDeviation, deviated.Failure!.Reason);

        AttestationBaseline relearned = AttestationBaseline.Learn(deviated);
        Assert.True(Verify(cmdline2, relearned).Passed);
        Assert.Equal(AttestationFailureReason.BaselineDeviation,
            Verify(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture), relearned).Failure!.Reason);
    }

    [Fact]
    public void Learn_FromUnverifiedEvidence_Throws()
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        var evidence = factory.Attest(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture), nonce);
        AttestationResult wrongNonce = Verifiers.Cached.Verify(evidence, factory.Expect(RandomNumberGenerator.GetBytes(32)));
        Assert.Throws<ArgumentException>(() => AttestationBaseline.Learn(wrongNonce));
    }

    [Fact]
    public void FromJson_RoundTrip_KeepsVerdicts()
    {
        AttestationBaseline baseline = LearnFirstBoot();
        byte[] json = baseline.ToJson();
        AttestationBaseline loaded = AttestationBaseline.FromJson(json);
        Assert.Equal(baseline.EarlyBoot, loaded.EarlyBoot);
        Assert.Equal(baseline.LateBoot, loaded.LateBoot);
        Assert.Equal(json, loaded.ToJson());
        Assert.Contains("\"earlyBoot\"", Encoding.UTF8.GetString(json), StringComparison.Ordinal);
        AttestationResult result = Verify(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.ChangedCmdlineCapture), loaded);
        Assert.Equal("PCR 8", result.Failure!.Component);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("not json")]
    [InlineData("{\"version\":2,\"learnedAt\":\"2026-01-01T00:00:00Z\",\"bank\":\"sha256\",\"earlyBoot\":{},\"lateBoot\":{}}")]
    public void FromJson_Invalid_ThrowsFormat(string json)
    {
        Assert.Throws<FormatException>(() => AttestationBaseline.FromJson(Encoding.UTF8.GetBytes(json)));
    }
}
