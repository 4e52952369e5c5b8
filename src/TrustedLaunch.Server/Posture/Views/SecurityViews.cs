using System.Text.Json.Serialization;

namespace TrustedLaunch.Server.Posture.Views;

// Microsoft.Security's answers as Azure's REST API spells them (azure-rest-api-specs: assessments 2021-06-01, alerts
// 2022-01-01, alertsSuppressionRules 2019-01-01-preview, pricings 2024-01-01, secureScores 2020-01-01). Webhook
// subscriptions are this platform's (Azure delivers through workflow automations and Event Grid).

/// <summary><c>{value, nextLink}</c>.</summary>
public sealed record SecurityList<T>(IReadOnlyList<T> Value, string? NextLink = null);

public sealed record AssessmentResource
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public string Type { get; init; } = "Microsoft.Security/assessments";

    public required AssessmentProperties Properties { get; init; }
}

public sealed record AssessmentProperties
{
    public required ResourceDetails ResourceDetails { get; init; }

    public required string DisplayName { get; init; }

    public required AssessmentStatusView Status { get; init; }

    public IReadOnlyDictionary<string, string>? AdditionalData { get; init; }

    public AssessmentMetadataView? Metadata { get; init; }

    public IReadOnlyList<AssessmentHistoryView>? StatusHistory { get; init; }
}

public sealed record ResourceDetails(string Source, string Id);

public sealed record AssessmentStatusView
{
    public required string Code { get; init; }

    public string? Cause { get; init; }

    public string? Description { get; init; }

    public required DateTimeOffset FirstEvaluationDate { get; init; }

    public required DateTimeOffset StatusChangeDate { get; init; }
}

public sealed record AssessmentMetadataView
{
    public required string DisplayName { get; init; }

    public required string PolicyDefinitionId { get; init; }

    public required string Description { get; init; }

    public required string RemediationDescription { get; init; }

    public required IReadOnlyList<string> Categories { get; init; }

    public required string Severity { get; init; }

    public required string UserImpact { get; init; }

    public required string ImplementationEffort { get; init; }

    public required IReadOnlyList<string> Threats { get; init; }

    public string AssessmentType { get; init; } = "BuiltIn";
}

public sealed record AssessmentHistoryView(string Code, string? Cause, string Description, DateTimeOffset StatusChangeDate);

/// <summary>The status history of one assessment (ours: <c>GET …/assessments/{key}/statusHistory</c>).</summary>
public sealed record AssessmentHistoryResource(string Id, IReadOnlyList<AssessmentHistoryView> Value);

public sealed record AlertResource
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public string Type { get; init; } = "Microsoft.Security/Locations/alerts";

    public required AlertProperties Properties { get; init; }
}

public sealed record AlertProperties
{
    public required string Status { get; init; }

    public required DateTimeOffset TimeGeneratedUtc { get; init; }

    public string VendorName { get; init; } = "TrustedLaunch";

    public string ProductName { get; init; } = "TrustedLaunch posture";

    public required string AlertType { get; init; }

    public required string SystemAlertId { get; init; }

    public required string AlertDisplayName { get; init; }

    public required string Description { get; init; }

    public required string Severity { get; init; }

    public required string Intent { get; init; }

    public required DateTimeOffset StartTimeUtc { get; init; }

    public required DateTimeOffset EndTimeUtc { get; init; }

    public required IReadOnlyList<ResourceIdentifier> ResourceIdentifiers { get; init; }

    public required IReadOnlyList<string> RemediationSteps { get; init; }

    public required string CompromisedEntity { get; init; }

    public required IReadOnlyList<IReadOnlyDictionary<string, string>> Entities { get; init; }

    public required IReadOnlyDictionary<string, string> ExtendedProperties { get; init; }

    public required string CorrelationKey { get; init; }

    public bool IsIncident { get; init; }

    public required SupportingEvidenceView SupportingEvidence { get; init; }

    public IReadOnlyList<string> Techniques { get; init; } = [];

    public IReadOnlyList<string> SubTechniques { get; init; } = [];

    public required string AlertUri { get; init; }

    public required DateTimeOffset ProcessingEndTimeUtc { get; init; }
}

public sealed record ResourceIdentifier
{
    public string Type { get; init; } = "AzureResource";

    public required string AzureResourceId { get; init; }
}

public sealed record SupportingEvidenceView
{
    public string Type { get; init; } = "tabularEvidences";

    public required string Title { get; init; }

    public required IReadOnlyList<string> Columns { get; init; }

    public required IReadOnlyList<IReadOnlyList<string>> Rows { get; init; }
}

public sealed record PricingResource
{
    public required string Id { get; init; }

    public string Name { get; init; } = "VirtualMachines";

    public string Type { get; init; } = "Microsoft.Security/pricings";

    public required PricingProperties Properties { get; init; }
}

public sealed record PricingProperties
{
    public required string PricingTier { get; init; }

    public string FreeTrialRemainingTime { get; init; } = "PT0S";

    public DateTimeOffset? EnablementTime { get; init; }

    /// <summary>What the tier gives on this platform.</summary>
    public string? Description { get; init; }
}

public sealed record SuppressionRuleResource
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public string Type { get; init; } = "Microsoft.Security/alertsSuppressionRules";

    public required SuppressionRuleProperties Properties { get; init; }
}

public sealed record SuppressionRuleProperties
{
    public string? AlertType { get; init; }

    public DateTimeOffset? LastModifiedUtc { get; init; }

    public DateTimeOffset? ExpirationDateUtc { get; init; }

    public string? Reason { get; init; }

    public string? State { get; init; }

    public string? Comment { get; init; }

    public SuppressionScopeView? SuppressionAlertsScope { get; init; }
}

public sealed record SuppressionScopeView(IReadOnlyList<SuppressionConditionView>? AllOf);

public sealed record SuppressionConditionView
{
    public string? Field { get; init; }

    public IReadOnlyList<string>? In { get; init; }

    public string? Contains { get; init; }
}

public sealed record SecureScoreResource
{
    public required string Id { get; init; }

    public string Name { get; init; } = "ascScore";

    public string Type { get; init; } = "Microsoft.Security/secureScores";

    public required SecureScoreProperties Properties { get; init; }
}

public sealed record SecureScoreProperties
{
    public string DisplayName { get; init; } = "ASC score";

    public required SecureScoreItem Score { get; init; }

    /// <summary>The sum of the weights of the applicable assessments (Azure: the number of healthy-able resources).</summary>
    public required double Weight { get; init; }

    public required int HealthyAssessments { get; init; }

    public required int UnhealthyAssessments { get; init; }

    public required int NotApplicableAssessments { get; init; }
}

public sealed record SecureScoreItem(double Max, double Current, double Percentage);

public sealed record WebhookResource
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public string Type { get; init; } = "Microsoft.Security/webhookSubscriptions";

    public required WebhookProperties Properties { get; init; }
}

public sealed record WebhookProperties
{
    public string? Url { get; init; }

    public IReadOnlyList<string>? EventTypes { get; init; }

    public IReadOnlyList<string>? AlertTypes { get; init; }

    public string? MinimumSeverity { get; init; }

    /// <summary>Write-only: the HMAC key; answered once, when the service generated it.</summary>
    public string? Secret { get; init; }

    public string? State { get; init; }

    public int? ConsecutiveFailures { get; init; }

    public string? DisabledReason { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    public DateTimeOffset? LastDeliveryAt { get; init; }
}

public sealed record DeliveryList(string Webhook, IReadOnlyList<DeliveryView> Value);

public sealed record DeliveryView(long Id, string EventId, int Attempt, DateTimeOffset At, int? StatusCode, string Outcome, string? Error);

public sealed record RemediationResource
{
    public required string Id { get; init; }

    public required string Status { get; init; }

    public required string Step { get; init; }

    public string? Error { get; init; }

    public required DateTimeOffset StartTime { get; init; }

    public DateTimeOffset? EndTime { get; init; }

    [JsonPropertyName("steps")]
    public IReadOnlyList<string> Steps { get; init; } = ["Deallocate", "Update", "Start"];
}
