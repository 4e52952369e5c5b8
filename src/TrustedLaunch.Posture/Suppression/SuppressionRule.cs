using System.Globalization;
using TrustedLaunch.Posture.Alerts;

namespace TrustedLaunch.Posture.Suppression;

/// <summary>A rule's <c>state</c>; Expired is also what an Enabled rule past its <c>expirationDateUtc</c> reads as.</summary>
public enum SuppressionState
{
    Enabled,
    Disabled,
    Expired,
}

/// <summary>One condition of <c>suppressionAlertsScope.allOf</c>: a field and either <c>in</c> (a list) or <c>contains</c> (a string).</summary>
public sealed record SuppressionCondition(string Field, string Operator, IReadOnlyList<string> Values);

/// <summary>
/// <c>Microsoft.Security/alertsSuppressionRules/{name}</c> (2019-01-01-preview): an alert type (or <c>*</c>), a reason,
/// a state, an expiry, a comment and the <c>allOf</c> conditions over alert fields, all of which must hold.
/// </summary>
public sealed record SuppressionRule
{
    public required string Name { get; init; }

    public required string SubscriptionId { get; init; }

    public required string AlertType { get; init; }

    public required string Reason { get; init; }

    public required SuppressionState State { get; init; }

    /// <summary>Null: no expiry (Azure's "maximum allowed date").</summary>
    public DateTimeOffset? ExpirationDateUtc { get; init; }

    public string? Comment { get; init; }

    public required IReadOnlyList<SuppressionCondition> AllOf { get; init; }

    public required DateTimeOffset LastModifiedUtc { get; init; }

    /// <summary>The state as of <paramref name="now"/>: an Enabled rule past its expiry is Expired.</summary>
    public SuppressionState EffectiveState(DateTimeOffset now) =>
        State == SuppressionState.Enabled && ExpirationDateUtc is DateTimeOffset expiry && expiry <= now ? SuppressionState.Expired : State;

    /// <summary>Whether this rule, as of <paramref name="now"/>, dismisses <paramref name="alert"/>.</summary>
    public bool Matches(SecurityAlert alert, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (EffectiveState(now) != SuppressionState.Enabled)
            return false;
        if (AlertType != "*" && !string.Equals(AlertType, alert.AlertType, StringComparison.OrdinalIgnoreCase))
            return false;
        return AllOf.All(c => SuppressionFields.Value(alert, c.Field) is string value && Holds(c, value));
    }

    private static bool Holds(SuppressionCondition condition, string value) => condition.Operator switch
    {
        SuppressionFields.In => condition.Values.Any(v => string.Equals(v, value, StringComparison.OrdinalIgnoreCase)),
        SuppressionFields.Contains => condition.Values.Count == 1 && value.Contains(condition.Values[0], StringComparison.OrdinalIgnoreCase),
        _ => false,
    };
}

/// <summary>The alert fields a suppression condition may name, and the operators; anything else is refused when the rule is written.</summary>
public static class SuppressionFields
{
    public const string In = "in";
    public const string Contains = "contains";

    /// <summary>The reasons Azure's portal offers (<c>reason</c> is free text in the API; these are documented).</summary>
    public static IReadOnlyList<string> Reasons { get; } = ["FalsePositive", "Benign", "Other"];

    /// <summary>Fields by name (case-insensitive); <c>extendedProperties.&lt;name&gt;</c> reads any extended property.</summary>
    public static IReadOnlyList<string> Fields { get; } =
    [
        "alertType", "severity", "compromisedEntity", "entities.azureResource.resourceId", "entities.azureResource.resourceGroup",
        "entities.azureResource.vmId", "entities.file.name", "extendedProperties.<name>",
    ];

    public static bool IsKnown(string field) =>
        field.StartsWith("extendedProperties.", StringComparison.OrdinalIgnoreCase) && field.Length > "extendedProperties.".Length
        || Fields.Contains(field, StringComparer.OrdinalIgnoreCase) && !field.EndsWith("<name>", StringComparison.Ordinal);

    /// <summary>The alert's value of <paramref name="field"/>, null when it has none (the condition then fails).</summary>
    public static string? Value(SecurityAlert alert, string field)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(field);
        if (field.StartsWith("extendedProperties.", StringComparison.OrdinalIgnoreCase))
        {
            string name = field["extendedProperties.".Length..];
            return alert.ExtendedProperties.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
        }

        return field.ToUpperInvariant() switch
        {
            "ALERTTYPE" => alert.AlertType,
            "SEVERITY" => alert.Severity.ToString(),
            "COMPROMISEDENTITY" => alert.CompromisedEntity,
            "ENTITIES.AZURERESOURCE.RESOURCEID" => alert.ResourceId,
            "ENTITIES.AZURERESOURCE.RESOURCEGROUP" => alert.ResourceGroup,
            "ENTITIES.AZURERESOURCE.VMID" => alert.VmId.ToString("D", CultureInfo.InvariantCulture),
            "ENTITIES.FILE.NAME" => alert.ExtendedProperties.TryGetValue("module", out string? module) ? module : null,
            _ => null,
        };
    }
}
