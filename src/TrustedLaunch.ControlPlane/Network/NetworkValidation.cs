using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TrustedLaunch.ArmTemplates;
using TrustedLaunch.ControlPlane.Arm;
using static TrustedLaunch.ControlPlane.Network.NetworkTypes;

namespace TrustedLaunch.ControlPlane.Network;

/// <summary>
/// The shape checks of each network type, every violation collected (Azure's codes and messages where known:
/// <c>InvalidAddressPrefixFormat</c>, <c>InvalidCIDRNotation</c>, <c>NetcfgSubnetRangeOutsideVnet</c>,
/// <c>NetcfgSubnetRangesOverlap</c>, <c>SecurityRuleInvalidPortRange</c>, <c>InvalidResourceReference</c>).
/// </summary>
internal static partial class NetworkValidation
{
    private static readonly string[] Protocols = ["Tcp", "Udp", "Icmp", "Esp", "Ah", "*"];

    public static List<AddressPrefix> Prefixes(IEnumerable<JsonNode?> values, string resourceId, string target, List<ArmErrorDetail> errors)
    {
        var prefixes = new List<AddressPrefix>();
        foreach (JsonNode? value in values)
        {
            string text = TemplateValues.ToText(value);
            if (AddressPrefix.TryParse(text, out AddressPrefix prefix, out string? canonical))
                prefixes.Add(prefix);
            else if (canonical is not null)
                errors.Add(Error("InvalidCIDRNotation", $"The address prefix {text} in resource {resourceId} has an invalid CIDR notation. For the given prefix length, the address prefix should be {canonical}.", target));
            else
                errors.Add(Error("InvalidAddressPrefixFormat", $"Address prefix {text} of resource {resourceId} is not formatted correctly. It should follow CIDR notation, for example 10.0.0.0/24.", target));
        }

        return prefixes;
    }

    /// <summary>A virtual network: its address space, and each subnet inside it and apart from the others.</summary>
    public static void VirtualNetwork(JsonObject body, string id, string name, List<ArmErrorDetail> errors)
    {
        JsonNode? properties = Member(body, "properties");
        List<AddressPrefix> space = Prefixes(Items(Member(properties, "addressSpace"), "addressPrefixes"), id, "properties.addressSpace.addressPrefixes", errors);
        if (space.Count == 0 && errors.Count == 0)
            errors.Add(Error("InvalidAddressSpace", $"The virtual network {name} needs at least one address prefix in properties.addressSpace.addressPrefixes.", "properties.addressSpace.addressPrefixes"));
        var subnets = new List<(string Name, AddressPrefix Prefix)>();
        int index = 0;
        foreach (JsonNode? subnet in Items(properties, "subnets"))
        {
            string target = $"properties.subnets[{index++}]";
            string subnetName = Text(subnet, "name") ?? "";
            if (subnetName.Length == 0)
                errors.Add(Error("InvalidRequestFormat", "A subnet needs a name.", $"{target}.name"));
            foreach (AddressPrefix prefix in SubnetPrefixes(subnet, id, $"{target}.properties.addressPrefix", errors))
            {
                if (space.Count > 0 && !space.Any(s => s.Contains(prefix)))
                    errors.Add(Error("NetcfgSubnetRangeOutsideVnet", $"Subnet '{subnetName}' is not valid because its IP address range is outside the IP address range of virtual network '{name}'.", target));
                foreach ((string other, AddressPrefix otherPrefix) in subnets.Where(s => s.Prefix.Overlaps(prefix)))
                    errors.Add(Error("NetcfgSubnetRangesOverlap", $"Subnet '{subnetName}' is not valid in virtual network '{name}' because its IP address range overlaps with that of an existing subnet '{other}' in virtual network.", target));
                subnets.Add((subnetName, prefix));
            }
        }
    }

    public static List<AddressPrefix> SubnetPrefixes(JsonNode? subnet, string id, string target, List<ArmErrorDetail> errors)
    {
        JsonNode? properties = Member(subnet, "properties");
        IEnumerable<JsonNode?> values = Member(properties, "addressPrefix") is JsonNode single ? [single] : Items(properties, "addressPrefixes");
        List<AddressPrefix> prefixes = Prefixes(values, id, target, errors);
        if (prefixes.Count == 0 && !values.Any())
            errors.Add(Error("InvalidRequestFormat", $"The subnet '{Text(subnet, "name")}' needs properties.addressPrefix.", target));
        return prefixes;
    }

    /// <summary>A network security group: each rule named, prioritised (100-4096, unique per direction), with valid access, direction, protocol and ports.</summary>
    public static void SecurityGroup(JsonObject body, List<ArmErrorDetail> errors)
    {
        var seen = new Dictionary<(string, long), string>();
        int index = 0;
        foreach (JsonNode? rule in Items(Member(body, "properties"), "securityRules"))
        {
            string target = $"properties.securityRules[{index++}]";
            string name = Text(rule, "name") ?? "";
            JsonNode? p = Member(rule, "properties");
            if (name.Length == 0)
                errors.Add(Error("InvalidRequestFormat", "A security rule needs a name.", $"{target}.name"));
            if (!TemplateValues.TryGetInt(Member(p, "priority"), out long priority) || priority is < 100 or > 4096)
                errors.Add(Error("SecurityRuleInvalidPriority", $"Security rule {name} has invalid Priority. Value provided: {TemplateValues.ToText(Member(p, "priority"))} Allowed range 100-4096.", $"{target}.properties.priority"));
            string direction = Text(p, "direction") ?? "";
            if (!direction.Equals("Inbound", StringComparison.OrdinalIgnoreCase) && !direction.Equals("Outbound", StringComparison.OrdinalIgnoreCase))
                errors.Add(Error("SecurityRuleInvalidDirection", $"Security rule {name} has invalid Direction '{direction}': use Inbound or Outbound.", $"{target}.properties.direction"));
            else if (seen.TryGetValue((direction.ToUpperInvariant(), priority), out string? other))
                errors.Add(Error("SecurityRulesConflictingPriority", $"Security rules {other} and {name} have the same Priority {priority} and Direction {direction}.", $"{target}.properties.priority"));
            else
                seen[(direction.ToUpperInvariant(), priority)] = name;
            string access = Text(p, "access") ?? "";
            if (!access.Equals("Allow", StringComparison.OrdinalIgnoreCase) && !access.Equals("Deny", StringComparison.OrdinalIgnoreCase))
                errors.Add(Error("SecurityRuleInvalidAccess", $"Security rule {name} has invalid Access '{access}': use Allow or Deny.", $"{target}.properties.access"));
            string protocol = Text(p, "protocol") ?? "";
            if (!Protocols.Contains(protocol, StringComparer.OrdinalIgnoreCase))
                errors.Add(Error("SecurityRuleInvalidProtocol", $"Security rule {name} has invalid Protocol '{protocol}': use Tcp, Udp, Icmp, Esp, Ah or *.", $"{target}.properties.protocol"));
            foreach (string side in new[] { "source", "destination" })
            {
                foreach (string range in PortRanges(p, side))
                {
                    if (ParsePortRange(range) is null)
                        errors.Add(Error("SecurityRuleInvalidPortRange", $"Security rule has invalid Port range. Value provided: {range}. Value should be an integer OR integer range with '-' delimiter. Valid range 0-65535.", $"{target}.properties.{side}PortRange"));
                }
            }
        }
    }

    /// <summary>The port ranges of one side of a rule (<c>destinationPortRange</c> and <c>destinationPortRanges</c>).</summary>
    public static IEnumerable<string> PortRanges(JsonNode? ruleProperties, string side)
    {
        if (Text(ruleProperties, $"{side}PortRange") is string single)
            yield return single;
        foreach (JsonNode? item in Items(ruleProperties, $"{side}PortRanges"))
            yield return TemplateValues.ToText(item);
    }

    /// <summary><c>*</c> → 0-65535; <c>22</c>; <c>8000-8080</c>; null when malformed.</summary>
    public static (int First, int Last)? ParsePortRange(string range)
    {
        if (range == "*")
            return (0, 65535);
        string[] ends = range.Split('-');
        if (ends.Length > 2 || !ends.All(e => int.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p <= 65535))
            return null;
        int first = int.Parse(ends[0], CultureInfo.InvariantCulture), last = int.Parse(ends[^1], CultureInfo.InvariantCulture);
        return first <= last ? (first, last) : null;
    }

    /// <summary>A public IP: SKU, allocation method and DNS label as Azure allows them.</summary>
    public static void PublicIp(JsonObject body, List<ArmErrorDetail> errors)
    {
        string? sku = Text(Member(body, "sku"), "name");
        if (sku is not null && !sku.Equals("Basic", StringComparison.OrdinalIgnoreCase) && !sku.Equals("Standard", StringComparison.OrdinalIgnoreCase))
            errors.Add(Error("InvalidPublicIPSku", $"The public IP SKU '{sku}' is not valid: use Basic or Standard.", "sku.name"));
        JsonNode? properties = Member(body, "properties");
        string? method = Text(properties, "publicIPAllocationMethod");
        if (method is not null && !method.Equals("Static", StringComparison.OrdinalIgnoreCase) && !method.Equals("Dynamic", StringComparison.OrdinalIgnoreCase))
            errors.Add(Error("InvalidPublicIPAllocationMethod", $"The allocation method '{method}' is not valid: use Static or Dynamic.", "properties.publicIPAllocationMethod"));
        string? label = Text(Member(properties, "dnsSettings"), "domainNameLabel");
        if (label is not null && !DnsLabel().IsMatch(label))
            errors.Add(Error("InvalidDomainNameLabel", $"The domain name label {label} is invalid. It must conform to the following regular expression: ^[a-z][a-z0-9-]{{1,61}}[a-z0-9]$.", "properties.dnsSettings.domainNameLabel"));
    }

    public static ArmErrorDetail Error(string code, string message, string? target) => new() { Code = code, Message = message, Target = target };

    public static ArmErrorDetail MissingReference(string reference, string referencedBy, string target) => Error("InvalidResourceReference",
        $"Resource {reference} referenced by resource {referencedBy} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.", target);

    [GeneratedRegex("^[a-z][a-z0-9-]{1,61}[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsLabel();
}
