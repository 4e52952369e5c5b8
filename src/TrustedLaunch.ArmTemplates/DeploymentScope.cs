using System.Text.Json.Nodes;

namespace TrustedLaunch.ArmTemplates;

/// <summary>Where a template is deployed: what <c>subscription()</c>, <c>resourceGroup()</c> and <c>deployment()</c> answer.</summary>
public sealed record DeploymentScope
{
    public required string SubscriptionId { get; init; }

    public string SubscriptionDisplayName { get; init; } = "";

    /// <summary>The directory id; this platform has none, so ARM's all-zero GUID unless the host says otherwise.</summary>
    public string TenantId { get; init; } = "00000000-0000-0000-0000-000000000000";

    public required string ResourceGroup { get; init; }

    /// <summary>The resource group's location (the default of many templates' <c>location</c> parameter).</summary>
    public required string Location { get; init; }

    public IReadOnlyDictionary<string, string>? ResourceGroupTags { get; init; }

    public required string DeploymentName { get; init; }

    public string ResourceGroupId => $"/subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroup}";
}

/// <summary>
/// The state of deployed resources, for <c>reference()</c>: the resource as its provider answers a GET (id, name,
/// type, location, properties…), or null when it does not exist.
/// </summary>
public interface IReferenceResolver
{
    JsonObject? Resolve(string resourceId, string? apiVersion);
}
