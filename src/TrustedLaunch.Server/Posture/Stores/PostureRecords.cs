using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Assessments;

namespace TrustedLaunch.Server.Posture.Stores;

/// <summary>One VM's stored assessment of one recommendation.</summary>
public sealed record StoredAssessment
{
    public required Guid VmId { get; init; }

    public required string Key { get; init; }

    public required string SubscriptionId { get; init; }

    public required string ResourceGroup { get; init; }

    public required string ResourceId { get; init; }

    public required AssessmentStatusCode Status { get; init; }

    public string? Cause { get; init; }

    public required string Description { get; init; }

    public required DateTimeOffset FirstEvaluatedAt { get; init; }

    public required DateTimeOffset StatusChangedAt { get; init; }
}

/// <summary>One status change of an assessment.</summary>
public sealed record AssessmentHistoryEntry(AssessmentStatusCode Status, string? Cause, string Description, DateTimeOffset At);

/// <summary>A plan (<c>Microsoft.Security/pricings/VirtualMachines</c>).</summary>
public enum PricingTier
{
    Free,
    Standard,
}

/// <summary>A webhook subscription: where, which events, its state and how its deliveries went.</summary>
public sealed record WebhookSubscription
{
    public required string SubscriptionId { get; init; }

    public required string Name { get; init; }

    public required string Url { get; init; }

    /// <summary>CloudEvent types delivered (empty: all).</summary>
    public IReadOnlyList<string> EventTypes { get; init; } = [];

    /// <summary>Alert types delivered (empty: all); assessment events are not filtered by it.</summary>
    public IReadOnlyList<string> AlertTypes { get; init; } = [];

    /// <summary>The lowest alert severity delivered (null: all).</summary>
    public Severity? MinimumSeverity { get; init; }

    public required bool Enabled { get; init; }

    public int ConsecutiveFailures { get; init; }

    public string? DisabledReason { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? LastDeliveryAt { get; init; }
}

/// <summary>One event of the stream (alerts:watch, webhooks): the CloudEvent as delivered.</summary>
public sealed record SecurityEventRecord(long Seq, string SubscriptionId, string EventId, string Type, string? AlertType, Severity? Severity,
    string EventJson, DateTimeOffset At);

/// <summary>One event to deliver to one webhook.</summary>
public sealed record OutboxItem(long Id, string SubscriptionId, string WebhookName, SecurityEventRecord Event, int Attempts);

/// <summary>One delivery attempt, as the delivery log shows it.</summary>
public sealed record DeliveryRecord(long Id, string EventId, int Attempt, DateTimeOffset At, int? StatusCode, string Outcome, string? Error);

/// <summary>A new event to append to the stream, in the transaction of the change it reports.</summary>
public sealed record NewSecurityEvent(string SubscriptionId, string EventId, string Type, string? AlertType, Severity? Severity, string EventJson,
    DateTimeOffset At);

/// <summary>Where a remediation stands.</summary>
public sealed record RemediationRecord
{
    public required Guid VmId { get; init; }

    public required string Key { get; init; }

    public required string ResourceId { get; init; }

    /// <summary>InProgress, Succeeded, Failed.</summary>
    public required string Status { get; init; }

    /// <summary>Deallocate, Update, Start, Done.</summary>
    public required string Step { get; init; }

    public string? Error { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }
}

/// <summary>
/// Everything one evaluation pass changes, written in one transaction: assessments (a status change with its history
/// row), alerts, the events they raise, the VMs' observed boots, and the cursors it moved. A crash leaves all of it or
/// none: a result is folded into the alerts exactly once. Every write names what the evaluation read (the previous
/// row, the cursor's value): the store applies the batch only while all of that still holds, so two evaluations that
/// race (another replica, a hand-started run) never both record a change; the one that lost evaluates again.
/// </summary>
public sealed record PostureBatch
{
    public List<AssessmentWrite> Assessments { get; } = [];

    /// <summary>Assessments and observed boots of VMs that no longer exist.</summary>
    public List<Guid> RemovedVms { get; } = [];

    public List<AlertWrite> Alerts { get; } = [];

    public List<NewSecurityEvent> Events { get; } = [];

    public List<BootStateWrite> BootStates { get; } = [];

    public Dictionary<string, CursorMove> Cursors { get; } = new(StringComparer.Ordinal);

    /// <summary>Who holds the claims <see cref="Releases"/> gives back (<see cref="SqlPostureWork"/>).</summary>
    public string? Claimant { get; set; }

    /// <summary>Claimed VMs whose results this batch folds; the batch is written only while every claim is still the claimant's.</summary>
    public List<PostureRelease> Releases { get; } = [];

    /// <summary>Claimed VM changes this batch evaluated; given back with it, under the same condition.</summary>
    public List<VmChangeClaim> VmChanges { get; } = [];

    /// <summary>
    /// The repeat marks of the VMs whose results this batch folds (<see cref="Releases"/>); a released VM without one, and
    /// every other VM the batch writes for, is marked <see cref="RepeatMark.None"/>.
    /// </summary>
    public Dictionary<Guid, RepeatMark> Repeats { get; } = [];

    public bool IsEmpty => Assessments.Count == 0 && RemovedVms.Count == 0 && Alerts.Count == 0 && Events.Count == 0 && BootStates.Count == 0
        && Cursors.Count == 0 && Releases.Count == 0 && VmChanges.Count == 0;
}

/// <summary>
/// An assessment to store over <paramref name="Previous"/> (the row the evaluation read; null: there was none). A status
/// change (<paramref name="StatusChanged"/>, a first evaluation included) also writes a history row.
/// </summary>
public sealed record AssessmentWrite(StoredAssessment? Previous, StoredAssessment Next, bool StatusChanged);

/// <summary>
/// An alert to store over <paramref name="Previous"/> (the alert as read: its status, count and last result; null: a new
/// alert). <paramref name="RepeatsWith"/>: the repeat tag (<see cref="RepeatMark.Tag"/>) under which a result folded where
/// it is stored counts one more occurrence of it; empty: none does.
/// </summary>
public sealed record AlertWrite(SecurityAlert? Previous, SecurityAlert Next, string RepeatsWith = "");

/// <summary>
/// What a result of a VM must look like to be folded where it is stored (docs/posture.md): its fingerprint
/// (<see cref="PostureFingerprint"/>), valid while the VM's change sequence and the security settings' version are these,
/// and the tag written on the open alerts it repeats. <see cref="None"/>: every result goes through an engine.
/// </summary>
public sealed record RepeatMark(string Fingerprint, string Tag, long VmChangeSequence, long SettingsVersion)
{
    /// <summary>The fingerprint that matches any result: a VM the control plane does not hold, whose results posture folds as nothing.</summary>
    public const string AnyResult = "*";

    public static RepeatMark None { get; } = new("", "", -1, -1);

    /// <summary>
    /// For a VM registered with the attestation service only (<c>tl server vm add</c>): every result folds as nothing while
    /// the control plane holds no VM with its id (the fold reads a missing VM's change sequence as -1).
    /// </summary>
    public static RepeatMark NotInControlPlane(long settingsVersion) => new(AnyResult, "", -1, settingsVersion);
}

/// <summary>A VM's observed boot to store over <paramref name="Previous"/> (null: none was stored).</summary>
public sealed record BootStateWrite(VmBootState? Previous, VmBootState Next);

/// <summary>A cursor moved from <paramref name="Expected"/> (the value the evaluation started from; 0 when unset) to <paramref name="Value"/>.</summary>
public readonly record struct CursorMove(long Expected, long Value);

/// <summary>What posture observed of a VM's power: whether it runs, its restart generation, since when it runs (its current boot).</summary>
public sealed record VmBootState(Guid VmId, bool Running, long RestartGeneration, DateTimeOffset? RunningSince);

/// <summary>A VM's observed boot and the version of its stored assessments (counted up by every batch that writes them).</summary>
public readonly record struct ObservedVm(VmBootState Boot, long AssessmentsVersion);
