using System.Globalization;
using System.Text.Json.Nodes;
using static TrustedLaunch.ControlPlane.Network.NetworkTypes;

namespace TrustedLaunch.ControlPlane.Network;

/// <summary>
/// Which inbound TCP ports a NIC's security groups let in from anywhere, evaluated as Azure evaluates NSGs: each group's
/// rules in priority order, the first matching rule decides, nothing matching is denied (Azure's DenyAllInBound), and
/// with a subnet group and a NIC group both must allow. Candidates are the ports of inbound Allow rules for TCP from
/// any source (<c>*</c>, <c>Internet</c>, <c>0.0.0.0/0</c>) naming at most <see cref="MaxPortsPerRule"/> ports: a
/// host forward is one host port per guest port, so "every port" cannot be forwarded.
/// </summary>
public static class SecurityRuleEvaluation
{
    public const int MaxPortsPerRule = 16;

    /// <summary>The forwardable guest ports, each with the rule (<c>nsg/rule</c>) that allowed it, in port order.</summary>
    public static IReadOnlyList<(int Port, string Rule)> AllowedTcpPorts(IReadOnlyList<(string Name, JsonObject Desired)> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Count == 0)
            return [];
        var candidates = new SortedDictionary<int, string>();
        foreach ((string name, JsonObject desired) in groups)
        {
            foreach (JsonNode? rule in Rules(desired).Where(r => IsInboundTcp(r) && IsAllow(r) && FromAnywhere(r)))
            {
                foreach ((int first, int last) in Ranges(rule).Where(r => r.Last - r.First < MaxPortsPerRule))
                {
                    for (int port = first; port <= last; port++)
                        candidates.TryAdd(port, $"{name}/{Text(rule, "name")}");
                }
            }
        }

        return candidates.Where(c => groups.All(g => Decides(g.Desired, c.Key))).Select(c => (c.Key, c.Value)).ToArray();
    }

    // The first inbound rule (by priority) that matches TCP to the port decides; none: denied.
    private static bool Decides(JsonObject group, int port) =>
        Rules(group).Where(r => IsInboundTcp(r) && Ranges(r).Any(range => range.First <= port && port <= range.Last))
            .OrderBy(Priority).Select(IsAllow).FirstOrDefault(false);

    private static IEnumerable<JsonNode?> Rules(JsonObject group) => Items(group["properties"], "securityRules");

    private static JsonNode? Properties(JsonNode? rule) => Member(rule, "properties");

    private static bool IsInboundTcp(JsonNode? rule) =>
        string.Equals(Text(Properties(rule), "direction"), "Inbound", StringComparison.OrdinalIgnoreCase)
        && Text(Properties(rule), "protocol") is string protocol
        && (protocol.Equals("Tcp", StringComparison.OrdinalIgnoreCase) || protocol == "*");

    private static bool IsAllow(JsonNode? rule) => string.Equals(Text(Properties(rule), "access"), "Allow", StringComparison.OrdinalIgnoreCase);

    private static bool FromAnywhere(JsonNode? rule)
    {
        string[] sources = [.. Sources(Properties(rule))];
        return sources.Length == 0 || sources.Any(s => s is "*" or "0.0.0.0/0" || s.Equals("Internet", StringComparison.OrdinalIgnoreCase) || s.Equals("Any", StringComparison.OrdinalIgnoreCase));
    }

    private static IEnumerable<string> Sources(JsonNode? properties)
    {
        if (Text(properties, "sourceAddressPrefix") is string single)
            yield return single;
        foreach (JsonNode? item in Items(properties, "sourceAddressPrefixes"))
            yield return item?.ToString() ?? "";
    }

    private static IEnumerable<(int First, int Last)> Ranges(JsonNode? rule) =>
        NetworkValidation.PortRanges(Properties(rule), "destination").Select(NetworkValidation.ParsePortRange).OfType<(int, int)>();

    private static int Priority(JsonNode? rule) =>
        int.TryParse(Member(Properties(rule), "priority")?.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out int priority) ? priority : int.MaxValue;
}
