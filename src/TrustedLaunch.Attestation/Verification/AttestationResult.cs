using TrustedLaunch.Attestation.Evidence;

namespace TrustedLaunch.Attestation;

/// <summary>A baseline stage's outcome.</summary>
public enum BaselineVerdict
{
    /// <summary>No baseline was given, or the evidence failed before the baseline could be compared.</summary>
    NotEvaluated,

    /// <summary>Every PCR of the stage equals the baseline.</summary>
    Pass,

    /// <summary>At least one PCR of the stage differs.</summary>
    Fail,
}

/// <summary>The verifier's answer for one evidence bundle.</summary>
public sealed record AttestationResult
{
    /// <summary>True when every check passed.</summary>
    public required bool Passed { get; init; }

    /// <summary>The first failed check; null when <see cref="Passed"/>.</summary>
    public AttestationFailure? Failure { get; init; }

    /// <summary>The VM id the AK certificate proved; null when the AK was not verified.</summary>
    public Guid? VmId { get; init; }

    /// <summary>
    /// The verified quote's clock state, for the next attestation's <see cref="AttestationExpectations.PreviousQuoteClock"/>:
    /// set once the quote verified and was not older than the previous one (whatever fails after), else null.
    /// </summary>
    public QuoteClock? QuoteClock { get; init; }

    /// <summary>The appraised boot; null when the evidence failed before the event log replayed.</summary>
    public AttestedBootState? BootState { get; init; }

    /// <summary>Early-boot baseline verdict (firmware, Secure Boot configuration: PCRs 0-3, 5, 7).</summary>
    public BaselineVerdict EarlyBoot { get; init; }

    /// <summary>Late-boot baseline verdict (boot loader, kernel, command line: PCRs 4, 8, 9, 14).</summary>
    public BaselineVerdict LateBoot { get; init; }

    /// <summary>Every baseline deviation, expected and actual, each naming what changed.</summary>
    public IReadOnlyList<BaselineDeviation> Deviations { get; init; } = [];

    /// <summary>Every reference-policy violation.</summary>
    public IReadOnlyList<PolicyViolation> PolicyViolations { get; init; } = [];

    /// <summary>The reference policy that was applied.</summary>
    public string? PolicyName { get; init; }

    /// <summary>What the guest agent reported from the kernel log (not covered by the quote).</summary>
    public IReadOnlyList<GuestFinding> Findings { get; init; } = [];

    /// <summary>The key a bound token may be encrypted to; null when none was sent, it was refused, or the attestation failed.</summary>
    public VerifiedBoundKey? BoundKey { get; init; }

    /// <summary>Why the key sent for a bound token was refused; null when none was sent or it was accepted.</summary>
    public BoundKeyFailure? BoundKeyFailure { get; init; }

    /// <summary>What the guest says its OS is (not covered by the quote).</summary>
    public OsIdentity? Os { get; init; }

    internal static AttestationResult Fail(AttestationFailureReason reason, string component, string message) => new()
    {
        Passed = false,
        Failure = new AttestationFailure(reason, component, message),
    };
}
