using System.Globalization;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Portal.Data;

/// <summary>One entity filter of a suppression rule (a <c>suppressionAlertsScope.allOf</c> condition).</summary>
public sealed class SuppressionConditionForm
{
    public string? Field { get; set; }

    /// <summary><c>in</c> (the values, comma-separated) or <c>contains</c> (one string).</summary>
    public string Operator { get; set; } = "in";

    public string? Values { get; set; }
}

/// <summary>
/// The "Create suppression rule" form, in Defender's fields: alert type, reason, comment, expiration and entity filters,
/// turned into the body of <c>PUT …/alertsSuppressionRules/{name}</c> (2019-01-01-preview). The service validates it
/// (its 400 names what is wrong); this only shapes it.
/// </summary>
public sealed class SuppressionRuleForm
{
    public const int FilterRows = 3;

    /// <summary>Defender's dismissal reasons.</summary>
    public static readonly IReadOnlyList<string> Reasons = ["FalsePositive", "Benign", "AcceptedRisk", "Other"];

    public string? Name { get; set; }

    public string AlertType { get; set; } = "*";

    public string Reason { get; set; } = "FalsePositive";

    public string? Comment { get; set; }

    /// <summary>A date (yyyy-MM-dd, the date input's value): the rule expires at its start, UTC; empty: no expiry.</summary>
    public string? Expiration { get; set; }

    public bool Enabled { get; set; } = true;

    public List<SuppressionConditionForm> Filters { get; set; } = [.. Enumerable.Range(0, FilterRows).Select(_ => new SuppressionConditionForm())];

    /// <summary>The ARM body; null with <paramref name="error"/> when the form itself is unusable (no filter, a bad date).</summary>
    public JsonObject? ToResource(out string? error)
    {
        error = null;
        var allOf = new JsonArray();
        foreach (SuppressionConditionForm filter in Filters.Where(f => !string.IsNullOrWhiteSpace(f.Field)))
        {
            string[] values = filter.Operator == "contains"
                ? [filter.Values?.Trim() ?? ""]
                : (filter.Values ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (values is [] or [""])
            {
                error = $"The filter on '{filter.Field}' has no value.";
                return null;
            }

            allOf.Add(filter.Operator == "contains"
                ? new JsonObject { ["field"] = filter.Field!.Trim(), ["contains"] = values[0] }
                : new JsonObject { ["field"] = filter.Field!.Trim(), ["in"] = new JsonArray([.. values.Select(v => (JsonNode)v)]) });
        }

        var properties = new JsonObject
        {
            ["alertType"] = AlertType,
            ["reason"] = Reason,
            ["state"] = Enabled ? "Enabled" : "Disabled",
            ["suppressionAlertsScope"] = new JsonObject { ["allOf"] = allOf },
        };
        if (!string.IsNullOrWhiteSpace(Comment))
            properties["comment"] = Comment.Trim();
        if (!string.IsNullOrWhiteSpace(Expiration))
        {
            if (!DateOnly.TryParseExact(Expiration.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out DateOnly date))
            {
                error = $"The expiration '{Expiration}' is not a date (yyyy-mm-dd).";
                return null;
            }

            properties["expirationDateUtc"] = date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        return new JsonObject { ["properties"] = properties };
    }
}
