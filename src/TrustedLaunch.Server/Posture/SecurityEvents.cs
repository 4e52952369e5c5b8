using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Posture.Views;

namespace TrustedLaunch.Server.Posture;

/// <summary>
/// The events posture emits, as CloudEvents 1.0 in structured JSON mode (the CNCF SDK's formatter): the same bytes go
/// to <c>alerts:watch</c> and to every webhook. <c>id</c> is the idempotency id; <c>subject</c> the resource's ARM id;
/// the extension attributes <c>alerttype</c> and <c>severity</c> let a receiver route without parsing <c>data</c>.
/// </summary>
public static class SecurityEvents
{
    public const string AlertCreated = "Microsoft.Security.AlertCreated";
    public const string AlertUpdated = "Microsoft.Security.AlertUpdated";
    public const string AssessmentStatusChanged = "Microsoft.Security.AssessmentStatusChanged";

    public static IReadOnlyList<string> Types { get; } = [AlertCreated, AlertUpdated, AssessmentStatusChanged];

    /// <summary>The media type of a structured-mode CloudEvent.</summary>
    public const string MediaType = "application/cloudevents+json";

    private static readonly JsonEventFormatter Formatter = new();

    public static NewSecurityEvent ForAlert(SecurityAlert alert, string type, DateTimeOffset now, Guid id)
    {
        ArgumentNullException.ThrowIfNull(alert);
        JsonElement data = JsonSerializer.SerializeToElement(SecurityViewMapper.Alert(alert), PostureJson.Web.AlertResource);
        var cloudEvent = new CloudEvent
        {
            Id = id.ToString("D"),
            Source = Source(alert.SubscriptionId),
            Type = type,
            Subject = SecurityViewMapper.AlertId(alert),
            Time = now,
            DataContentType = "application/json",
            Data = data,
        };
        cloudEvent["alerttype"] = alert.AlertType;
        cloudEvent["severity"] = alert.Severity.ToString();
        return new NewSecurityEvent(alert.SubscriptionId, cloudEvent.Id, type, alert.AlertType, alert.Severity, Encode(cloudEvent), now);
    }

    public static NewSecurityEvent ForAssessment(StoredAssessment assessment, DateTimeOffset now, Guid id)
    {
        ArgumentNullException.ThrowIfNull(assessment);
        Severity severity = Recommendations.Find(assessment.Key)?.Severity ?? Severity.Low;
        JsonElement data = JsonSerializer.SerializeToElement(SecurityViewMapper.Assessment(assessment, withMetadata: false), PostureJson.Web.AssessmentResource);
        var cloudEvent = new CloudEvent
        {
            Id = id.ToString("D"),
            Source = Source(assessment.SubscriptionId),
            Type = AssessmentStatusChanged,
            Subject = SecurityViewMapper.AssessmentId(assessment.ResourceId, assessment.Key),
            Time = now,
            DataContentType = "application/json",
            Data = data,
        };
        cloudEvent["severity"] = severity.ToString();
        return new NewSecurityEvent(assessment.SubscriptionId, cloudEvent.Id, AssessmentStatusChanged, null, severity, Encode(cloudEvent), now);
    }

    /// <summary>Reads an event back (receivers do the same with the SDK).</summary>
    public static CloudEvent Decode(ReadOnlyMemory<byte> json) => Formatter.DecodeStructuredModeMessage(json, null, null);

    private static Uri Source(string subscriptionId) => new($"/subscriptions/{subscriptionId}/providers/Microsoft.Security", UriKind.Relative);

    private static string Encode(CloudEvent cloudEvent) =>
        System.Text.Encoding.UTF8.GetString(Formatter.EncodeStructuredModeMessage(cloudEvent, out _).Span);
}
