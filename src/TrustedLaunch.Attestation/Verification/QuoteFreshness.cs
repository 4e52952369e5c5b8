using System.Globalization;

namespace TrustedLaunch.Attestation;

/// <summary>
/// Whether a verified quote may follow the VM's newest accepted one (rollback detection, closing the window a
/// prefetched nonce would leave). Every accepted quote is compared, not only those accepted before this nonce was
/// issued; the one exception is what a concurrent attestation of the same boot can look like, bounded by time.
/// </summary>
internal static class QuoteFreshness
{
    // TPM 2.0 Part 1 §36.3: Clock advances with real time while the TPM runs (TPM2_ClockRateAdjust moves the rate by a
    // small fraction); a VM that is off or paused advances it less, never more. 1 % and 1 s absorb rate and rounding.
    private const double RateTolerance = 0.01;
    private const double SlackMilliseconds = 1000;

    /// <summary>Null when <paramref name="quote"/> is fresh; else why it is refused.</summary>
    public static string? Failure(QuoteClock quote, AttestationExpectations expected, DateTimeOffset now)
    {
        if (expected.PreviousQuoteClock is not { } newest || quote.RegressionFrom(newest) is not string regression)
            return null;
        if (expected.NonceIssuedAt is not { } issued || expected.PreviousQuoteAcceptedAt is not { } accepted || issued > accepted)
            return regression; // its challenge came after the newer quote was accepted: the TPM made it later, yet it is older
        if (quote.ResetCount != newest.ResetCount || quote.RestartCount != newest.RestartCount)
            return regression + "; a concurrent attestation would be of the same boot";
        double lag = newest.Clock - (double)quote.Clock;
        double possible = (accepted - issued).TotalMilliseconds * (1 + RateTolerance) + SlackMilliseconds;
        if (lag > possible)
        {
            return regression + string.Create(CultureInfo.InvariantCulture,
                $"; it trails the newer quote by {lag:F0} ms of TPM time, more than the {possible:F0} ms that passed between its challenge and that quote's acceptance");
        }

        if (now - accepted > expected.ConcurrentAttestationWindow)
        {
            return regression + string.Create(CultureInfo.InvariantCulture,
                $"; it arrived {(now - accepted).TotalSeconds:F0} s after a newer quote was accepted (concurrent attestations finish within {expected.ConcurrentAttestationWindow.TotalSeconds:F0} s)");
        }

        return null;
    }
}
