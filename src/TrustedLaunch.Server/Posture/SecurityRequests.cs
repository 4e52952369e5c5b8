using System.Globalization;
using System.Text.Json;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Posture.Suppression;
using TrustedLaunch.Server.Posture.Stores;

namespace TrustedLaunch.Server.Posture;

/// <summary>
/// Reads the bodies of the Microsoft.Security PUTs strictly: a member that the resource does not define, a wrong type,
/// an unknown value, a field given twice are each an ARM 400 whose <c>target</c> is the JSON path; every violation is reported.
/// </summary>
public static class SecurityRequests
{
    public static ArmResult<PricingTier> Pricing(ReadOnlySpan<byte> body)
    {
        var errors = new List<ArmErrorDetail>();
        PricingTier tier = PricingTier.Free;
        if (Parse(body, errors) is JsonElement root)
        {
            JsonElement? properties = Object(root, "properties", "properties", errors, required: true, allowed: ["properties", "id", "name", "type"]);
            if (properties is JsonElement p)
            {
                Unknown(p, "properties", errors, "pricingTier", "subPlan", "freeTrialRemainingTime", "enablementTime", "extensions", "description");
                if (String(p, "pricingTier", "properties.pricingTier", errors, required: true) is string text)
                {
                    if (!Enum.TryParse(text, ignoreCase: true, out tier) || int.TryParse(text, out _))
                        errors.Add(Invalid($"The pricing tier '{text}' is not valid: Free or Standard.", "properties.pricingTier"));
                }
            }
        }

        return errors.Count > 0 ? ArmFailure.FromViolations(ArmErrors.BadRequest, errors) : ArmResult.Ok(tier);
    }

    public static ArmResult<SuppressionRule> Rule(ReadOnlySpan<byte> body, string subscriptionId, string name, DateTimeOffset now)
    {
        var errors = new List<ArmErrorDetail>();
        if (!IsName(name))
            errors.Add(Invalid($"The rule name '{name}' is not valid: 1-260 letters, digits, '-', '_' or '.'.", "name"));
        SuppressionRule? rule = null;
        if (Parse(body, errors) is JsonElement root)
        {
            JsonElement? properties = Object(root, "properties", "properties", errors, required: true, allowed: ["properties", "id", "name", "type"]);
            if (properties is JsonElement p)
            {
                Unknown(p, "properties", errors, "alertType", "reason", "state", "expirationDateUtc", "comment", "suppressionAlertsScope", "lastModifiedUtc");
                string? alertType = String(p, "alertType", "properties.alertType", errors, required: true);
                if (alertType is not null && alertType != "*" && !AlertTypes.All.Contains(alertType, StringComparer.OrdinalIgnoreCase))
                    errors.Add(Invalid($"The alert type '{alertType}' is not valid: {string.Join(", ", AlertTypes.All)} or *.", "properties.alertType"));
                string? reason = String(p, "reason", "properties.reason", errors, required: true);
                string? stateText = String(p, "state", "properties.state", errors, required: true);
                SuppressionState state = SuppressionState.Enabled;
                if (stateText is not null && (!Enum.TryParse(stateText, ignoreCase: true, out state) || int.TryParse(stateText, out _)))
                    errors.Add(Invalid($"The state '{stateText}' is not valid: Enabled, Disabled or Expired.", "properties.state"));
                DateTimeOffset? expiry = null;
                if (String(p, "expirationDateUtc", "properties.expirationDateUtc", errors, required: false) is string expiryText)
                {
                    if (DateTimeOffset.TryParse(expiryText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset parsed))
                        expiry = parsed;
                    else
                        errors.Add(Invalid($"The expiration date '{expiryText}' is not an ISO 8601 date.", "properties.expirationDateUtc"));
                }

                string? comment = String(p, "comment", "properties.comment", errors, required: false);
                List<SuppressionCondition> conditions = Scope(p, errors);
                if (errors.Count == 0)
                {
                    rule = new SuppressionRule
                    {
                        Name = name, SubscriptionId = subscriptionId, AlertType = alertType == "*" ? "*" : AlertTypes.All.First(t => string.Equals(t, alertType, StringComparison.OrdinalIgnoreCase)),
                        Reason = reason!, State = state, ExpirationDateUtc = expiry, Comment = comment, AllOf = conditions, LastModifiedUtc = now,
                    };
                }
            }
        }

        return errors.Count > 0 ? ArmFailure.FromViolations(ArmErrors.BadRequest, errors) : ArmResult.Ok(rule!);
    }

    /// <summary>A webhook subscription and its secret (the one sent, else null: the caller generates one).</summary>
    public static ArmResult<(WebhookSubscription Webhook, string? Secret)> Webhook(ReadOnlySpan<byte> body, string subscriptionId, string name,
        bool allowHttp, DateTimeOffset now)
    {
        var errors = new List<ArmErrorDetail>();
        if (!IsName(name))
            errors.Add(Invalid($"The webhook name '{name}' is not valid: 1-260 letters, digits, '-', '_' or '.'.", "name"));
        (WebhookSubscription, string?)? result = null;
        if (Parse(body, errors) is JsonElement root)
        {
            JsonElement? properties = Object(root, "properties", "properties", errors, required: true, allowed: ["properties", "id", "name", "type"]);
            if (properties is JsonElement p)
            {
                Unknown(p, "properties", errors, "url", "secret", "eventTypes", "alertTypes", "minimumSeverity");
                string? url = String(p, "url", "properties.url", errors, required: true);
                if (url is not null && CheckUrl(url, allowHttp) is string problem)
                    errors.Add(Invalid(problem, "properties.url"));
                string? secret = String(p, "secret", "properties.secret", errors, required: false);
                if (secret is not null && secret.Length is < 16 or > 256)
                    errors.Add(Invalid("The secret must be 16 to 256 characters.", "properties.secret"));
                IReadOnlyList<string> eventTypes = Strings(p, "eventTypes", errors, SecurityEvents.Types);
                IReadOnlyList<string> alertTypes = Strings(p, "alertTypes", errors, AlertTypes.All);
                Severity? minimum = null;
                if (String(p, "minimumSeverity", "properties.minimumSeverity", errors, required: false) is string severity)
                {
                    if (Enum.TryParse(severity, ignoreCase: true, out Severity parsed) && !int.TryParse(severity, out _))
                        minimum = parsed;
                    else
                        errors.Add(Invalid($"The severity '{severity}' is not valid: Informational, Low, Medium or High.", "properties.minimumSeverity"));
                }

                if (errors.Count == 0)
                {
                    result = (new WebhookSubscription
                    {
                        SubscriptionId = subscriptionId, Name = name, Url = url!, EventTypes = eventTypes, AlertTypes = alertTypes, MinimumSeverity = minimum,
                        Enabled = true, CreatedAt = now,
                    }, secret);
                }
            }
        }

        return errors.Count > 0 ? ArmFailure.FromViolations(ArmErrors.BadRequest, errors) : ArmResult.Ok(result!.Value);
    }

    /// <summary>Null when <paramref name="url"/> may receive events; else why not (the message never repeats credentials).</summary>
    public static string? CheckUrl(string url, bool allowHttp)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out Uri? uri))
            return "The webhook URL must be an absolute URL of at most 2048 characters.";
        if (uri.Scheme != Uri.UriSchemeHttps && !(allowHttp && uri.Scheme == Uri.UriSchemeHttp))
            return allowHttp ? "The webhook URL must be http:// or https://." : "The webhook URL must be https://.";
        if (!string.IsNullOrEmpty(uri.UserInfo))
            return "The webhook URL must not carry credentials (user:password@); authenticate the events with the HMAC signature instead.";
        if (!string.IsNullOrEmpty(uri.Fragment))
            return "The webhook URL must not have a fragment.";
        return null;
    }

    /// <summary>Alert status from its POST action name (Azure's: activate, inProgress, resolve, dismiss).</summary>
    public static AlertStatus? StatusOfAction(string action) => action.ToUpperInvariant() switch
    {
        "ACTIVATE" => AlertStatus.Active,
        "INPROGRESS" => AlertStatus.InProgress,
        "RESOLVE" => AlertStatus.Resolved,
        "DISMISS" => AlertStatus.Dismissed,
        _ => null,
    };

    private static List<SuppressionCondition> Scope(JsonElement properties, List<ArmErrorDetail> errors)
    {
        var conditions = new List<SuppressionCondition>();
        JsonElement? scope = Object(properties, "suppressionAlertsScope", "properties.suppressionAlertsScope", errors, required: true, allowed: null);
        if (scope is not JsonElement s)
            return conditions;
        Unknown(s, "properties.suppressionAlertsScope", errors, "allOf");
        if (!s.TryGetProperty("allOf", out JsonElement allOf) || allOf.ValueKind != JsonValueKind.Array)
        {
            errors.Add(Invalid("suppressionAlertsScope.allOf must be an array of conditions.", "properties.suppressionAlertsScope.allOf"));
            return conditions;
        }

        int i = 0;
        foreach (JsonElement c in allOf.EnumerateArray())
        {
            string target = string.Create(CultureInfo.InvariantCulture, $"properties.suppressionAlertsScope.allOf[{i++}]");
            if (c.ValueKind != JsonValueKind.Object)
            {
                errors.Add(Invalid("A condition must be an object {field, in|contains}.", target));
                continue;
            }

            string? field = String(c, "field", target + ".field", errors, required: true);
            if (field is not null && !SuppressionFields.IsKnown(field))
                errors.Add(Invalid($"The field '{field}' is not an alert field: {string.Join(", ", SuppressionFields.Fields)}.", target + ".field"));
            string[] operators = c.EnumerateObject().Select(m => m.Name).Where(n => n != "field").ToArray();
            if (operators.Length != 1)
            {
                errors.Add(Invalid($"A condition needs exactly one operator ({SuppressionFields.In} or {SuppressionFields.Contains}); it has {operators.Length}.", target));
                continue;
            }

            string op = operators[0];
            JsonElement value = c.GetProperty(op);
            if (op == SuppressionFields.In && value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0
                && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String))
            {
                conditions.Add(new SuppressionCondition(field ?? "", op, value.EnumerateArray().Select(v => v.GetString()!).ToArray()));
            }
            else if (op == SuppressionFields.Contains && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0)
            {
                conditions.Add(new SuppressionCondition(field ?? "", op, [value.GetString()!]));
            }
            else if (op is SuppressionFields.In or SuppressionFields.Contains)
            {
                errors.Add(Invalid(op == SuppressionFields.In ? "'in' takes a non-empty array of strings." : "'contains' takes a non-empty string.", $"{target}.{op}"));
            }
            else
            {
                errors.Add(Invalid($"The operator '{op}' is not supported: {SuppressionFields.In} or {SuppressionFields.Contains}.", $"{target}.{op}"));
            }
        }

        if (i == 0)
            errors.Add(Invalid("suppressionAlertsScope.allOf needs at least one condition.", "properties.suppressionAlertsScope.allOf"));
        return conditions;
    }

    private static List<string> Strings(JsonElement properties, string name, List<ArmErrorDetail> errors, IReadOnlyList<string> allowed)
    {
        var values = new List<string>();
        if (!properties.TryGetProperty(name, out JsonElement list) || list.ValueKind == JsonValueKind.Null)
            return values;
        string target = "properties." + name;
        if (list.ValueKind != JsonValueKind.Array || list.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String))
        {
            errors.Add(Invalid($"{name} must be an array of strings.", target));
            return values;
        }

        foreach (string value in list.EnumerateArray().Select(v => v.GetString()!))
        {
            string? known = allowed.FirstOrDefault(a => string.Equals(a, value, StringComparison.OrdinalIgnoreCase));
            if (known is null)
                errors.Add(Invalid($"'{value}' is not valid in {name}: {string.Join(", ", allowed)}.", target));
            else
                values.Add(known);
        }

        return values;
    }

    private static JsonElement? Parse(ReadOnlySpan<byte> body, List<ArmErrorDetail> errors)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 16 });
            if (document.RootElement.ValueKind == JsonValueKind.Object)
                return document.RootElement.Clone();
            errors.Add(ArmErrors.InvalidRequestContent("The body must be a JSON object.").Error);
        }
        catch (JsonException e)
        {
            errors.Add(ArmErrors.InvalidRequestContent(e.Message).Error);
        }

        return null;
    }

    private static JsonElement? Object(JsonElement parent, string name, string target, List<ArmErrorDetail> errors, bool required, string[]? allowed)
    {
        if (allowed is not null)
            Unknown(parent, "", errors, allowed);
        if (!parent.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
                errors.Add(ArmErrors.MissingParameter(name, target).Error);
            return null;
        }

        if (value.ValueKind == JsonValueKind.Object)
            return value;
        errors.Add(Invalid($"{name} must be an object.", target));
        return null;
    }

    private static string? String(JsonElement parent, string name, string target, List<ArmErrorDetail> errors, bool required)
    {
        if (!parent.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
                errors.Add(ArmErrors.MissingParameter(name, target).Error);
            return null;
        }

        if (value.ValueKind == JsonValueKind.String && value.GetString()!.Length <= 4096)
            return value.GetString();
        errors.Add(Invalid($"{name} must be a string of at most 4096 characters.", target));
        return null;
    }

    private static void Unknown(JsonElement element, string path, List<ArmErrorDetail> errors, params string[] allowed)
    {
        foreach (JsonProperty member in element.EnumerateObject())
        {
            if (!allowed.Contains(member.Name, StringComparer.Ordinal))
            {
                string target = path.Length == 0 ? member.Name : $"{path}.{member.Name}";
                errors.Add(Invalid($"'{member.Name}' is not a member of this resource (members: {string.Join(", ", allowed)}).", target));
            }
        }
    }

    private static bool IsName(string name) =>
        name.Length is > 0 and <= 260 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static ArmErrorDetail Invalid(string message, string target) => new() { Code = "InvalidParameter", Message = message, Target = target };
}
