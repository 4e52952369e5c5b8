using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using static TrustedLaunch.ControlPlane.Network.NetworkTypes;

namespace TrustedLaunch.ControlPlane.Network;

/// <summary>Network resources between request, storage and answer (Azure's Microsoft.Network shapes).</summary>
public static class NetworkViews
{
    private static readonly string[] ReadOnlyMembers = ["provisioningState", "resourceGuid", "ipAddress", "macAddress", "virtualMachine", "etag", "id", "type"];

    /// <summary>What a request asks for: location, tags, sku and properties without read-only members; subnets as {name, properties}.</summary>
    internal static JsonObject Desired(JsonObject body, string location)
    {
        var properties = Member(body, "properties")?.DeepClone() as JsonObject ?? [];
        Strip(properties);
        if (Member(properties, "subnets") is JsonArray subnets)
        {
            properties["subnets"] = new JsonArray(subnets.Select(s => (JsonNode?)new JsonObject
            {
                ["name"] = Text(s, "name"),
                ["properties"] = Strip(Member(s, "properties")?.DeepClone() as JsonObject ?? []),
            }).ToArray());
        }

        var desired = new JsonObject { ["location"] = location, ["properties"] = properties };
        if (Member(body, "tags") is JsonNode tags)
            desired["tags"] = tags.DeepClone();
        if (Member(body, "sku") is JsonNode sku)
            desired["sku"] = sku.DeepClone();
        return desired;
    }

    internal static JsonObject DesiredOf(NetworkResourceRecord record) => (JsonObject)JsonNode.Parse(record.BodyJson)!["desired"]!.DeepClone();

    internal static JsonObject ComputedOf(NetworkResourceRecord record) =>
        JsonNode.Parse(record.BodyJson)!["computed"]?.DeepClone() as JsonObject ?? [];

    /// <summary>The resource as GET answers it: the desired shape plus id, etag, provisioningState and what the platform computed.</summary>
    public static JsonObject Resource(NetworkResourceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        JsonObject desired = DesiredOf(record);
        JsonObject computed = ComputedOf(record);
        string id = Id(record.SubscriptionId, record.ResourceGroup, record.Type, record.Name);
        string etag = $"W/\"{record.Version.ToString(CultureInfo.InvariantCulture)}\"";
        var properties = (JsonObject)desired["properties"]!.DeepClone();
        properties["provisioningState"] = "Succeeded";
        properties["resourceGuid"] = Guid(id);
        switch (record.Type)
        {
            case VirtualNetworks:
                foreach (JsonObject subnet in Items(properties, "subnets").OfType<JsonObject>())
                {
                    subnet["id"] = $"{id}/subnets/{Text(subnet, "name")}";
                    subnet["etag"] = etag;
                    subnet["type"] = Subnets;
                    ((JsonObject)subnet["properties"]!)["provisioningState"] = "Succeeded";
                }

                break;
            case NetworkInterfaces:
                properties["macAddress"] = computed["macAddress"]?.DeepClone();
                properties["primary"] = true;
                foreach (JsonObject configuration in Items(properties, "ipConfigurations").OfType<JsonObject>())
                {
                    string name = Text(configuration, "name") ?? "ipconfig1";
                    configuration["id"] = $"{id}/ipConfigurations/{name}";
                    configuration["type"] = "Microsoft.Network/networkInterfaces/ipConfigurations";
                    var configurationProperties = configuration["properties"] as JsonObject ?? [];
                    configuration["properties"] = configurationProperties.Parent is null ? configurationProperties : configurationProperties.DeepClone();
                    ((JsonObject)configuration["properties"]!)["privateIPAddress"] = Member(computed["addresses"], name)?.DeepClone();
                    ((JsonObject)configuration["properties"]!)["privateIPAddressVersion"] = "IPv4";
                    ((JsonObject)configuration["properties"]!)["provisioningState"] = "Succeeded";
                }

                break;
            case PublicIPAddresses:
                if (Member(properties, "dnsSettings") is JsonObject dns && Text(dns, "domainNameLabel") is string label)
                    dns["fqdn"] = $"{label}.{record.Location}.cloudapp.azure.com";
                // Recorded, not routed: no address is assigned and nothing listens on one.
                properties["trustedLaunchExtensions"] = new JsonObject { ["routed"] = false };
                break;
        }

        var resource = new JsonObject
        {
            ["id"] = id,
            ["name"] = record.Name[(record.Name.LastIndexOf('/') + 1)..],
            ["type"] = record.Type,
            ["location"] = record.Location,
            ["etag"] = etag,
        };
        if (desired["tags"] is JsonNode tags)
            resource["tags"] = tags.DeepClone();
        if (desired["sku"] is JsonNode sku)
            resource["sku"] = sku.DeepClone();
        resource["properties"] = properties;
        return resource;
    }

    private static JsonObject Strip(JsonObject properties)
    {
        foreach (string member in ReadOnlyMembers)
        {
            string? present = properties.Select(p => p.Key).FirstOrDefault(k => k.Equals(member, StringComparison.OrdinalIgnoreCase));
            if (present is not null)
                properties.Remove(present);
        }

        return properties;
    }

    private static string Guid(string id)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(id.ToUpperInvariant()));
        return new System.Guid(hash.AsSpan(0, 16)).ToString();
    }
}
