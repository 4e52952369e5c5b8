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
/// Everything one evaluation pass changes, written in one transaction: assessments (and their history), alerts, the
/// events they raise, the VMs' observed boots, and the cursors it moved. A crash leaves all of it or none: a result is
/// folded into the alerts exactly once.
/// </summary>
public sealed record PostureBatch
{
    public List<StoredAssessment> Assessments { get; } = [];

    public List<(Guid VmId, string Key, AssessmentHistoryEntry Entry)> History { get; } = [];

    /// <summary>Assessments of VMs that no longer exist.</summary>
    public List<Guid> RemovedVms { get; } = [];

    public List<SecurityAlert> Alerts { get; } = [];

    public List<NewSecurityEvent> Events { get; } = [];

    public List<VmBootState> BootStates { get; } = [];

    public Dictionary<string, long> Cursors { get; } = new(StringComparer.Ordinal);

    public bool IsEmpty => Assessments.Count == 0 && History.Count == 0 && RemovedVms.Count == 0 && Alerts.Count == 0 && Events.Count == 0
        && BootStates.Count == 0 && Cursors.Count == 0;
}

/// <summary>What posture observed of a VM's power: whether it runs, its restart generation, since when it runs (its current boot).</summary>
public sealed record VmBootState(Guid VmId, bool Running, long RestartGeneration, DateTimeOffset? RunningSince);
