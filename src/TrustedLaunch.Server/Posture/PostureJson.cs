using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Suppression;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Posture.Views;

namespace TrustedLaunch.Server.Posture;

/// <summary>Posture's JSON, source-generated: stored rows (alerts, rules, webhooks) and the Microsoft.Security answers.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true,
    UseStringEnumConverter = true,
    AllowDuplicateProperties = false,
    MaxDepth = 32)]
[JsonSerializable(typeof(SecurityAlert))]
[JsonSerializable(typeof(SuppressionRule))]
[JsonSerializable(typeof(WebhookSubscription))]
[JsonSerializable(typeof(RemediationRecord))]
[JsonSerializable(typeof(AssessmentResource))]
[JsonSerializable(typeof(SecurityList<AssessmentResource>))]
[JsonSerializable(typeof(AssessmentHistoryResource))]
[JsonSerializable(typeof(AlertResource))]
[JsonSerializable(typeof(SecurityList<AlertResource>))]
[JsonSerializable(typeof(PricingResource))]
[JsonSerializable(typeof(SecurityList<PricingResource>))]
[JsonSerializable(typeof(SuppressionRuleResource))]
[JsonSerializable(typeof(SecurityList<SuppressionRuleResource>))]
[JsonSerializable(typeof(SecureScoreResource))]
[JsonSerializable(typeof(SecurityList<SecureScoreResource>))]
[JsonSerializable(typeof(WebhookResource))]
[JsonSerializable(typeof(SecurityList<WebhookResource>))]
[JsonSerializable(typeof(DeliveryList))]
[JsonSerializable(typeof(RemediationResource))]
internal sealed partial class PostureJson : JsonSerializerContext
{
    /// <summary>For answers: only the characters JSON requires escaped.</summary>
    public static PostureJson Web => WebInstance.Value;

    private static readonly Lazy<PostureJson> WebInstance = new(() => new PostureJson(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNameCaseInsensitive = true,
        AllowDuplicateProperties = false,
        MaxDepth = 32,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
    }));
}
