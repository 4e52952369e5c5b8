using System.Globalization;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Attestation;

/// <summary>
/// The vTPM's clock state in a verified quote (<c>TPMS_CLOCK_INFO</c>, TPM 2.0 Part 2 §10.11.1): milliseconds the TPM
/// has run, how often it was reset (TPM2_Startup(CLEAR): each boot) and restarted (resume), and whether the clock
/// value is known not to have been lost since it was last saved. The AK is an endorsement-hierarchy primary, so the
/// TPM does not obfuscate the counts (Part 1 §36.7).
/// </summary>
public sealed record QuoteClock(ulong Clock, uint ResetCount, uint RestartCount, bool Safe)
{
    internal static QuoteClock From(TpmsClockInfo info) => new(info.Clock, info.ResetCount, info.RestartCount, info.Safe);

    /// <summary>
    /// Keylime's quote-timing rule (tpm_main.py check_quote_timing) against the VM's last accepted quote: the reset and
    /// restart counts never decrease, and within one reset and restart the clock rises. A regression means the vTPM's
    /// state was rolled back to an older copy, or the quote comes from another TPM instance with the same AK; a
    /// replayed quote is caught earlier by its nonce. Returns null when the order holds.
    /// </summary>
    public string? RegressionFrom(QuoteClock previous)
    {
        ArgumentNullException.ThrowIfNull(previous);
        if (ResetCount < previous.ResetCount)
            return Describe($"its reset count went back from {previous.ResetCount} to {ResetCount}");
        if (ResetCount > previous.ResetCount)
            return null;
        if (RestartCount < previous.RestartCount)
            return Describe($"its restart count went back from {previous.RestartCount} to {RestartCount} within reset {ResetCount}");
        if (RestartCount > previous.RestartCount)
            return null;
        if (Clock <= previous.Clock)
            return Describe($"its clock went back from {previous.Clock} ms to {Clock} ms within reset {ResetCount}, restart {RestartCount}");

        // Part 1 §36.6: a TPM clears safe only in TPM2_Startup after an unorderly shutdown, which moves the reset or
        // restart count; within one of them safe only turns YES (at the next NV clock save). YES then NO in one epoch
        // is a state restored from before a save. NO itself is not refused: a killed QEMU causes it for up to 4.1 s.
        return previous.Safe && !Safe
            ? Describe($"its clock turned unsafe within reset {ResetCount}, restart {RestartCount}, which only a TPM start-up does")
            : null;
    }

    private static string Describe(string what) => string.Create(CultureInfo.InvariantCulture,
        $"the vTPM's quote is older than the VM's last accepted one: {what} (its state was rolled back, or another TPM instance holds this AK)");
}
