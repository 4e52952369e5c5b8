using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Posture.Scoring;
using TrustedLaunch.Posture.Suppression;
using TrustedLaunch.Server.Posture.Stores;

namespace TrustedLaunch.Server.Posture.Views;

/// <summary>Stored posture records → Microsoft.Security answers.</summary>
public static class SecurityViewMapper
{
    public static string AssessmentId(string vmResourceId, string key) => $"{vmResourceId}/providers/Microsoft.Security/assessments/{key}";

    public static string AlertId(SecurityAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return $"/subscriptions/{alert.SubscriptionId}/resourceGroups/{alert.ResourceGroup}/providers/Microsoft.Security/locations/{alert.Location}/alerts/{alert.Name}";
    }

    public static AssessmentResource Assessment(StoredAssessment stored, bool withMetadata, IReadOnlyList<AssessmentHistoryEntry>? history = null)
    {
        ArgumentNullException.ThrowIfNull(stored);
        Recommendation recommendation = Recommendations.Find(stored.Key)
            ?? throw new InvalidOperationException($"The stored assessment key {stored.Key} is not a known recommendation.");
        return new AssessmentResource
        {
            Id = AssessmentId(stored.ResourceId, recommendation.Key),
            Name = recommendation.Key,
            Properties = new AssessmentProperties
            {
                ResourceDetails = new ResourceDetails("Azure", stored.ResourceId),
                DisplayName = recommendation.DisplayName,
                Status = new AssessmentStatusView
                {
                    Code = stored.Status.ToString(),
                    Cause = stored.Cause,
                    Description = stored.Description,
                    FirstEvaluationDate = stored.FirstEvaluatedAt,
                    StatusChangeDate = stored.StatusChangedAt,
                },
                AdditionalData = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["vmId"] = stored.VmId.ToString("D"), ["severity"] = recommendation.Severity.ToString(),
                },
                Metadata = withMetadata ? Metadata(recommendation) : null,
                StatusHistory = history?.Select(History).ToArray(),
            },
        };
    }

    public static AssessmentMetadataView Metadata(Recommendation r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new AssessmentMetadataView
        {
            DisplayName = r.DisplayName,
            PolicyDefinitionId = r.PolicyDefinitionId,
            Description = r.Description,
            RemediationDescription = r.RemediationDescription,
            Categories = r.Categories,
            Severity = r.Severity.ToString(),
            UserImpact = r.UserImpact,
            ImplementationEffort = r.ImplementationEffort,
            Threats = r.Threats,
        };
    }

    public static AssessmentHistoryView History(AssessmentHistoryEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new AssessmentHistoryView(entry.Status.ToString(), entry.Cause, entry.Description, entry.At);
    }

    public static AlertResource Alert(SecurityAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        string id = AlertId(alert);
        return new AlertResource
        {
            Id = id,
            Name = alert.Name,
            Properties = new AlertProperties
            {
                Status = alert.Status.ToString(),
                TimeGeneratedUtc = alert.TimeGeneratedUtc,
                AlertType = alert.AlertType,
                SystemAlertId = alert.SystemAlertId,
                AlertDisplayName = alert.AlertDisplayName,
                Description = alert.Description,
                Severity = alert.Severity.ToString(),
                Intent = alert.Intent,
                StartTimeUtc = alert.StartTimeUtc,
                EndTimeUtc = alert.EndTimeUtc,
                ResourceIdentifiers = [new ResourceIdentifier { AzureResourceId = alert.ResourceId }],
                RemediationSteps = alert.RemediationSteps,
                CompromisedEntity = alert.CompromisedEntity,
                Entities = alert.Entities.Select(e => (IReadOnlyDictionary<string, string>)new Dictionary<string, string>(e.Properties, StringComparer.Ordinal)
                {
                    ["type"] = e.Type,
                }).ToArray(),
                ExtendedProperties = alert.SuppressedBy is null
                    ? alert.ExtendedProperties
                    : new Dictionary<string, string>(alert.ExtendedProperties, StringComparer.Ordinal) { ["suppressedBy"] = alert.SuppressedBy },
                CorrelationKey = alert.CorrelationKey,
                SupportingEvidence = new SupportingEvidenceView
                {
                    Title = alert.SupportingEvidence.Title, Columns = alert.SupportingEvidence.Columns, Rows = alert.SupportingEvidence.Rows,
                },
                AlertUri = id,
                ProcessingEndTimeUtc = alert.TimeGeneratedUtc,
            },
        };
    }

    public static PricingResource Pricing(string subscriptionId, PricingTier tier, DateTimeOffset? changedAt) => new()
    {
        Id = $"/subscriptions/{subscriptionId}/providers/Microsoft.Security/pricings/VirtualMachines",
        Properties = new PricingProperties
        {
            PricingTier = tier.ToString(),
            EnablementTime = tier == PricingTier.Standard ? changedAt : null,
            Description = tier == PricingTier.Standard
                ? "Assessments and security alerts (attestation failed, untrusted kernel module) for virtual machines."
                : "Assessments (recommendations and secure score) only; no security alerts.",
        },
    };

    public static SuppressionRuleResource Rule(SuppressionRule rule, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return new SuppressionRuleResource
        {
            Id = $"/subscriptions/{rule.SubscriptionId}/providers/Microsoft.Security/alertsSuppressionRules/{rule.Name}",
            Name = rule.Name,
            Properties = new SuppressionRuleProperties
            {
                AlertType = rule.AlertType,
                LastModifiedUtc = rule.LastModifiedUtc,
                ExpirationDateUtc = rule.ExpirationDateUtc,
                Reason = rule.Reason,
                State = rule.EffectiveState(now).ToString(),
                Comment = rule.Comment,
                SuppressionAlertsScope = new SuppressionScopeView(rule.AllOf.Select(c => c.Operator == SuppressionFields.In
                    ? new SuppressionConditionView { Field = c.Field, In = c.Values }
                    : new SuppressionConditionView { Field = c.Field, Contains = c.Values[0] }).ToArray()),
            },
        };
    }

    public static SecureScoreResource Score(string scopeId, SecureScoreValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new SecureScoreResource
        {
            Id = $"{scopeId}/providers/Microsoft.Security/secureScores/ascScore",
            Properties = new SecureScoreProperties
            {
                Score = new SecureScoreItem(value.Max, value.Current, value.Percentage),
                Weight = value.Max,
                HealthyAssessments = value.Healthy,
                UnhealthyAssessments = value.Unhealthy,
                NotApplicableAssessments = value.NotApplicable,
            },
        };
    }

    public static WebhookResource Webhook(WebhookSubscription webhook, string? generatedSecret = null)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        return new WebhookResource
        {
            Id = $"/subscriptions/{webhook.SubscriptionId}/providers/Microsoft.Security/webhookSubscriptions/{webhook.Name}",
            Name = webhook.Name,
            Properties = new WebhookProperties
            {
                Url = webhook.Url,
                EventTypes = webhook.EventTypes,
                AlertTypes = webhook.AlertTypes,
                MinimumSeverity = webhook.MinimumSeverity?.ToString(),
                Secret = generatedSecret,
                State = webhook.Enabled ? "Enabled" : "Disabled",
                ConsecutiveFailures = webhook.ConsecutiveFailures,
                DisabledReason = webhook.DisabledReason,
                CreatedAt = webhook.CreatedAt,
                LastDeliveryAt = webhook.LastDeliveryAt,
            },
        };
    }

    public static RemediationResource Remediation(RemediationRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new RemediationResource
        {
            Id = AssessmentId(record.ResourceId, record.Key) + "/remediation",
            Status = record.Status,
            Step = record.Step,
            Error = record.Error,
            StartTime = record.StartedAt,
            EndTime = record.EndedAt,
            Steps = SecureBootRemediation.StepsOf(record.Key),
        };
    }
}
