using TrustedLaunch.Posture.Assessments;

namespace TrustedLaunch.Posture.Alerts;

/// <summary>An alert's <c>status</c>: Active → InProgress → Resolved | Dismissed (changed by the POST actions).</summary>
public enum AlertStatus
{
    Active,
    InProgress,
    Resolved,
    Dismissed,
}

/// <summary>An entity of the alert (<c>entities[]</c>): the VM as an <c>azure-resource</c>, a module as a <c>file</c>.</summary>
public sealed record AlertEntity(string Type, IReadOnlyDictionary<string, string> Properties);

/// <summary>
/// An alert as Microsoft.Security/locations/alerts (2022-01-01) carries it, plus what the platform keeps to
/// de-duplicate it (<see cref="DedupKey"/>, <see cref="Count"/>) and to know which results it has seen.
/// </summary>
public sealed record SecurityAlert
{
    /// <summary>Reverse ticks of its generation time, then a GUID: newest first when sorted by name, as Azure's names are.</summary>
    public required string Name { get; init; }

    public required string SubscriptionId { get; init; }

    /// <summary>The ASC location (<c>locations/{loc}</c>): the VM's location.</summary>
    public required string Location { get; init; }

    public required string AlertType { get; init; }

    public required string SystemAlertId { get; init; }

    public required string AlertDisplayName { get; init; }

    public required string Description { get; init; }

    public required Severity Severity { get; init; }

    public required string Intent { get; init; }

    public required AlertStatus Status { get; init; }

    public required DateTimeOffset TimeGeneratedUtc { get; init; }

    public required DateTimeOffset StartTimeUtc { get; init; }

    public required DateTimeOffset EndTimeUtc { get; init; }

    public required string CompromisedEntity { get; init; }

    public required string ResourceId { get; init; }

    public required string ResourceGroup { get; init; }

    public required Guid VmId { get; init; }

    /// <summary>Why: <see cref="AlertReasons"/> for attestation failures, <c>ModuleRejected</c> for a module.</summary>
    public required string Reason { get; init; }

    /// <summary>One active alert per VM, type and reason (and module): this key.</summary>
    public required string DedupKey { get; init; }

    /// <summary>How many times the detection fired while this alert was active (1 when created).</summary>
    public required int Count { get; init; }

    public required IReadOnlyDictionary<string, string> ExtendedProperties { get; init; }

    public required IReadOnlyList<string> RemediationSteps { get; init; }

    public required IReadOnlyList<AlertEntity> Entities { get; init; }

    public required string CorrelationKey { get; init; }

    /// <summary>The deviation list or the kernel log excerpt, as <c>supportingEvidence</c> (type <c>tabularEvidences</c>).</summary>
    public required AlertEvidence SupportingEvidence { get; init; }

    /// <summary>When <see cref="Status"/> last changed.</summary>
    public required DateTimeOffset StatusChangedAt { get; init; }

    /// <summary>The newest attestation result folded into this alert.</summary>
    public long LastResultId { get; init; }

    /// <summary>Alerts that a suppression rule dismissed carry its name.</summary>
    public string? SuppressedBy { get; init; }

    /// <summary>Whether the alert is open (Active or InProgress): repeats are folded into an open alert.</summary>
    public bool IsOpen => Status is AlertStatus.Active or AlertStatus.InProgress;
}

/// <summary><c>supportingEvidence</c>: a titled table (Defender's <c>tabularEvidences</c> shape).</summary>
public sealed record AlertEvidence(string Title, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows);
