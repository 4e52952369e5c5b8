using System.Security.Cryptography;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Attestation.Tests.Verification;

[Collection(GenuineEvidenceGroup.Name)]
[IntegrationTest]
public sealed class QuoteClockTests(GenuineEvidenceFactory factory)
{
    [Theory]
    [InlineData(5, 0, 1000, 5, 0, 1001, null)]
    [InlineData(5, 0, 1000, 6, 0, 10, null)]          // rebooted: the clock may restart lower
    [InlineData(5, 0, 1000, 5, 1, 10, null)]          // resumed
    [InlineData(5, 0, 1000, 4, 9, 99_999, "reset count went back from 5 to 4")]
    [InlineData(5, 3, 1000, 5, 2, 99_999, "restart count went back from 3 to 2")]
    [InlineData(5, 0, 1000, 5, 0, 999, "clock went back from 1000 ms to 999 ms")]
    [InlineData(5, 0, 1000, 5, 0, 1000, "clock went back from 1000 ms to 1000 ms")]
    public void RegressionFrom_KeylimeOrder_NamesWhatWentBack(int prevReset, int prevRestart, long prevClock, int reset, int restart, long clock, string? expected)
    {
        var previous = new QuoteClock((ulong)prevClock, (uint)prevReset, (uint)prevRestart, Safe: true);
        string? regression = new QuoteClock((ulong)clock, (uint)reset, (uint)restart, Safe: true).RegressionFrom(previous);
        if (expected is null)
            Assert.Null(regression);
        else
            Assert.Contains(expected, regression, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_GenuineQuotes_ClockRisesAndAnOlderQuoteIsRefused()
    {
        byte[] log = GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture);
        byte[] firstNonce = RandomNumberGenerator.GetBytes(32);
        AttestationEvidence first = factory.Attest(log, firstNonce);
        AttestationResult firstResult = AttestationVerifier.Verify(first, factory.Expect(firstNonce));
        Assert.True(firstResult.Passed, firstResult.Failure?.ToString());
        QuoteClock firstClock = Assert.IsType<QuoteClock>(firstResult.QuoteClock);

        Thread.Sleep(50); // the TPM clock counts milliseconds
        byte[] secondNonce = RandomNumberGenerator.GetBytes(32);
        AttestationResult second = AttestationVerifier.Verify(factory.Attest(log, secondNonce),
            factory.Expect(secondNonce) with { PreviousQuoteClock = firstClock });
        Assert.True(second.Passed, second.Failure?.ToString());
        Assert.True(second.QuoteClock!.Clock > firstClock.Clock);

        // Evidence that is genuine and answers its own challenge, but is older than what the verifier accepted since:
        // what a vTPM whose state was rolled back (or a second copy of it) would present.
        AttestationResult older = AttestationVerifier.Verify(first, factory.Expect(firstNonce) with { PreviousQuoteClock = second.QuoteClock });
        Assert.False(older.Passed);
        Assert.Equal(AttestationFailureReason.QuoteInvalid, older.Failure!.Reason);
        Assert.Equal("quote: clock", older.Failure.Component);
        Assert.Contains("clock went back", older.Failure.Message, StringComparison.Ordinal);
        Assert.Null(older.QuoteClock); // nothing to move the VM's record on with
    }

    [Fact]
    public void Verify_AcrossATpmReset_ResetCountRisesAndTheOldBootIsRefused()
    {
        byte[] bootA = GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture);
        byte[] bootB = GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.ChangedCmdlineCapture);
        byte[] nonceA = RandomNumberGenerator.GetBytes(32);
        AttestationEvidence evidenceA = factory.Attest(bootA, nonceA);
        QuoteClock clockA = AttestationVerifier.Verify(evidenceA, factory.Expect(nonceA)).QuoteClock!;

        byte[] nonceB = RandomNumberGenerator.GetBytes(32);
        AttestationResult resultB = AttestationVerifier.Verify(factory.Attest(bootB, nonceB), factory.Expect(nonceB) with { PreviousQuoteClock = clockA });
        Assert.True(resultB.Passed, resultB.Failure?.ToString()); // the factory reset the TPM (TPM2_Startup(CLEAR)) to replay boot B
        Assert.True(resultB.QuoteClock!.ResetCount > clockA.ResetCount);

        AttestationResult rolledBack = AttestationVerifier.Verify(evidenceA, factory.Expect(nonceA) with { PreviousQuoteClock = resultB.QuoteClock });
        Assert.Equal(("quote: clock", AttestationFailureReason.QuoteInvalid), (rolledBack.Failure!.Component, rolledBack.Failure.Reason));
        Assert.Contains("reset count went back", rolledBack.Failure.Message, StringComparison.Ordinal);
    }
}
