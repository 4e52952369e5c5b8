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
        AttestationResult firstResult = Verifiers.Cached.Verify(first, factory.Expect(firstNonce));
        Assert.True(firstResult.Passed, firstResult.Failure?.ToString());
        QuoteClock firstClock = Assert.IsType<QuoteClock>(firstResult.QuoteClock);

        Thread.Sleep(50); // the TPM clock counts milliseconds
        byte[] secondNonce = RandomNumberGenerator.GetBytes(32);
        AttestationResult second = Verifiers.Cached.Verify(factory.Attest(log, secondNonce),
            factory.Expect(secondNonce) with { PreviousQuoteClock = firstClock });
        Assert.True(second.Passed, second.Failure?.ToString());
        Assert.True(second.QuoteClock!.Clock > firstClock.Clock);

        // Evidence that is genuine and answers its own challenge, but is older than what the verifier accepted since:
        // what a vTPM whose state was rolled back (or a second copy of it) would present.
        AttestationResult older = Verifiers.Cached.Verify(first, factory.Expect(firstNonce) with { PreviousQuoteClock = second.QuoteClock });
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
        QuoteClock clockA = Verifiers.Cached.Verify(evidenceA, factory.Expect(nonceA)).QuoteClock!;

        byte[] nonceB = RandomNumberGenerator.GetBytes(32);
        AttestationResult resultB = Verifiers.Cached.Verify(factory.Attest(bootB, nonceB), factory.Expect(nonceB) with { PreviousQuoteClock = clockA });
        Assert.True(resultB.Passed, resultB.Failure?.ToString()); // the factory reset the TPM (TPM2_Startup(CLEAR)) to replay boot B
        Assert.True(resultB.QuoteClock!.ResetCount > clockA.ResetCount);

        AttestationResult rolledBack = Verifiers.Cached.Verify(evidenceA, factory.Expect(nonceA) with { PreviousQuoteClock = resultB.QuoteClock });
        Assert.Equal(("quote: clock", AttestationFailureReason.QuoteInvalid), (rolledBack.Failure!.Component, rolledBack.Failure.Reason));
        Assert.Contains("reset count went back", rolledBack.Failure.Message, StringComparison.Ordinal);
    }

    /// <summary>Two genuine quotes of one boot, <paramref name="apart"/> of TPM time between them; the newer is the VM's newest accepted.</summary>
    private (AttestationEvidence Older, byte[] OlderNonce, QuoteClock Newer) TwoQuotes(TimeSpan apart)
    {
        byte[] log = GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture);
        byte[] olderNonce = RandomNumberGenerator.GetBytes(32);
        AttestationEvidence older = factory.Attest(log, olderNonce);
        Thread.Sleep(apart); // the TPM's clock runs with real time
        byte[] newerNonce = RandomNumberGenerator.GetBytes(32);
        QuoteClock newer = Verifiers.Cached.Verify(factory.Attest(log, newerNonce), factory.Expect(newerNonce)).QuoteClock!;
        return (older, olderNonce, newer);
    }

    [Fact]
    public void Verify_OlderQuoteOfAConcurrentAttestation_PassesWithinItsBounds()
    {
        (AttestationEvidence older, byte[] nonce, QuoteClock newer) = TwoQuotes(TimeSpan.FromMilliseconds(20));
        DateTimeOffset accepted = DateTimeOffset.UtcNow;
        AttestationResult result = Verifiers.Cached.Verify(older, factory.Expect(nonce) with
        {
            PreviousQuoteClock = newer, PreviousQuoteAcceptedAt = accepted, NonceIssuedAt = accepted.AddSeconds(-2), VerificationTime = accepted.AddSeconds(1),
        });
        Assert.True(result.Passed, result.Failure?.ToString());
    }

    [Theory]
    [InlineData("challenge-after-acceptance", "clock went back")]
    [InlineData("older-than-its-challenge", "more than the")]
    [InlineData("arrives-late", "concurrent attestations finish within 30 s")]
    public void Verify_OlderQuoteAnsweringAPrefetchedChallenge_RefusedAsARollback(string shape, string reason)
    {
        // The quotes are 1.5 s of TPM time apart: a vTPM restored from a copy that old answers with the older clock.
        (AttestationEvidence older, byte[] nonce, QuoteClock newer) = TwoQuotes(TimeSpan.FromMilliseconds(1500));
        DateTimeOffset accepted = DateTimeOffset.UtcNow;
        (DateTimeOffset issued, DateTimeOffset now) = shape switch
        {
            "challenge-after-acceptance" => (accepted.AddMilliseconds(1), accepted.AddSeconds(1)),
            // Its challenge was issued 200 ms before the newer quote was accepted: no genuine quote for it can trail by 1.5 s.
            "older-than-its-challenge" => (accepted.AddMilliseconds(-200), accepted.AddSeconds(1)),
            _ => (accepted.AddSeconds(-10), accepted.AddSeconds(31)),
        };

        AttestationResult result = Verifiers.Cached.Verify(older, factory.Expect(nonce) with
        {
            PreviousQuoteClock = newer, PreviousQuoteAcceptedAt = accepted, NonceIssuedAt = issued, VerificationTime = now,
        });

        Assert.Equal(("quote: clock", AttestationFailureReason.QuoteInvalid), (result.Failure?.Component, result.Failure?.Reason));
        Assert.Contains(reason, result.Failure!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_PreviousBootsQuoteAnsweringAPrefetchedChallenge_Refused()
    {
        byte[] nonceA = RandomNumberGenerator.GetBytes(32);
        AttestationEvidence evidenceA = factory.Attest(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture), nonceA);
        byte[] nonceB = RandomNumberGenerator.GetBytes(32);
        QuoteClock clockB = Verifiers.Cached.Verify(factory.Attest(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.ChangedCmdlineCapture), nonceB),
            factory.Expect(nonceB)).QuoteClock!;
        DateTimeOffset accepted = DateTimeOffset.UtcNow;

        AttestationResult result = Verifiers.Cached.Verify(evidenceA, factory.Expect(nonceA) with
        {
            PreviousQuoteClock = clockB, PreviousQuoteAcceptedAt = accepted, NonceIssuedAt = accepted.AddMinutes(-4), VerificationTime = accepted.AddSeconds(1),
        });

        Assert.Equal(AttestationFailureReason.QuoteInvalid, result.Failure?.Reason);
        Assert.Contains("a concurrent attestation would be of the same boot", result.Failure!.Message, StringComparison.Ordinal);
    }
}
