using TrustedLaunch.Posture.Assessments;

namespace TrustedLaunch.Posture.Alerts;

/// <summary>
/// One firing of a detection, before it is folded into the alerts: a new alert when no open alert has its
/// <see cref="DedupKey"/>, else one more occurrence of that alert.
/// </summary>
public sealed record AlertCandidate
{
    public required string AlertType { get; init; }

    public required string Reason { get; init; }

    public required string DedupKey { get; init; }

    public required string DisplayName { get; init; }

    public required string Description { get; init; }

    public required Severity Severity { get; init; }

    public required string Intent { get; init; }

    public required IReadOnlyDictionary<string, string> ExtendedProperties { get; init; }

    public required IReadOnlyList<string> RemediationSteps { get; init; }

    public required AlertEvidence SupportingEvidence { get; init; }

    /// <summary>When the detection fired (the attestation's time).</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>The attestation result it comes from (0 for a detection that has none, such as an overdue agent).</summary>
    public required long ResultId { get; init; }
}
