using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane.Network;

namespace TrustedLaunch.ControlPlane.Tests.Network;

/// <summary>NSG evaluation as Azure does it, reduced to the guest TCP ports a host may forward.</summary>
public sealed class SecurityRuleEvaluationTests
{
    private static (string, JsonObject) Group(string name, params string[] rules) =>
        (name, JsonNode.Parse($$$"""{"properties": {"securityRules": [{{{string.Join(',', rules)}}}]}}""")!.AsObject());

    private static string Rule(string name, int priority, string access, string ports, string protocol = "Tcp", string source = "*", string direction = "Inbound") =>
        $$$"""{"name": "{{{name}}}", "properties": {"priority": {{{priority}}}, "access": "{{{access}}}", "protocol": "{{{protocol}}}", "direction": "{{{direction}}}", "sourceAddressPrefix": "{{{source}}}", "destinationPortRange": "{{{ports}}}"}}""";

    [Fact]
    public void AllowedTcpPorts_FirstMatchByPriorityDecides()
    {
        var allowed = SecurityRuleEvaluation.AllowedTcpPorts([Group("nsg",
            Rule("ssh", 300, "Allow", "22"),
            Rule("web", 310, "Allow", "80-81"),
            Rule("noWeb81", 200, "Deny", "81", protocol: "*"),
            Rule("udp", 320, "Allow", "53", protocol: "Udp"),
            Rule("out", 330, "Allow", "8080", direction: "Outbound"),
            Rule("lan", 340, "Allow", "5432", source: "10.0.0.0/8"),
            Rule("wide", 350, "Allow", "1000-2000"))]);
        Assert.Equal([(22, "nsg/ssh"), (80, "nsg/web")], allowed);
    }

    [Fact]
    public void AllowedTcpPorts_SubnetAndNicGroupsMustBothAllow_NoGroupNoPorts()
    {
        var nic = Group("nicNsg", Rule("ssh", 100, "Allow", "22"), Rule("web", 110, "Allow", "443"));
        var subnet = Group("subnetNsg", Rule("ssh", 100, "Allow", "22"));
        Assert.Equal([(22, "nicNsg/ssh")], SecurityRuleEvaluation.AllowedTcpPorts([nic, subnet]));
        Assert.Empty(SecurityRuleEvaluation.AllowedTcpPorts([]));
    }
}
