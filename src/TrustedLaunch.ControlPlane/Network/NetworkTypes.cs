using System.Text.Json.Nodes;
using TrustedLaunch.ArmTemplates;

namespace TrustedLaunch.ControlPlane.Network;

/// <summary>The Microsoft.Network types of the minimal network model, and JSON reading shared by their validation.</summary>
public static class NetworkTypes
{
    public const string VirtualNetworks = "Microsoft.Network/virtualNetworks";
    public const string Subnets = "Microsoft.Network/virtualNetworks/subnets";
    public const string NetworkSecurityGroups = "Microsoft.Network/networkSecurityGroups";
    public const string PublicIPAddresses = "Microsoft.Network/publicIPAddresses";
    public const string NetworkInterfaces = "Microsoft.Network/networkInterfaces";

    /// <summary>The stored types (subnets live inside their virtual network).</summary>
    public static readonly IReadOnlyList<string> Stored = [VirtualNetworks, NetworkSecurityGroups, PublicIPAddresses, NetworkInterfaces];

    public static string? Canonical(string type) =>
        Stored.Append(Subnets).FirstOrDefault(t => t.Equals(type, StringComparison.OrdinalIgnoreCase));

    public static string Id(string subscriptionId, string resourceGroup, string type, string name) =>
        ResourceIds.InGroup(subscriptionId, resourceGroup, type, name);

    internal static JsonNode? Member(JsonNode? node, string name) =>
        node is JsonObject obj && TemplateValues.TryGetMember(obj, name, out JsonNode? member) ? member : null;

    internal static string? Text(JsonNode? node, string name) =>
        TemplateValues.TryGetString(Member(node, name), out string text) ? text : null;

    internal static IEnumerable<JsonNode?> Items(JsonNode? node, string name) => Member(node, name) as JsonArray ?? [];

    /// <summary>Parses an ARM id of a network resource: its type (with child types) and full name, or null.</summary>
    internal static (string SubscriptionId, string ResourceGroup, string Type, string Name)? ParseId(string? id)
    {
        string[] parts = (id ?? "").Trim('/').Split('/');
        if (parts.Length < 8 || !parts[0].Equals("subscriptions", StringComparison.OrdinalIgnoreCase)
            || !parts[2].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase) || !parts[4].Equals("providers", StringComparison.OrdinalIgnoreCase)
            || parts.Length % 2 != 0)
            return null;
        var types = new List<string> { parts[5] };
        var names = new List<string>();
        for (int i = 6; i < parts.Length; i += 2)
        {
            types.Add(parts[i]);
            names.Add(parts[i + 1]);
        }

        return (parts[1], parts[3], string.Join('/', types), string.Join('/', names));
    }
}
