using System.Text;
using TrustedLaunch.ControlPlane.Rules;

namespace TrustedLaunch.ControlPlane.Tests;

public sealed class RuleTableTests
{
    [Fact]
    public void Default_Loads_EachRuleItsOwnCodeMessageAndTarget()
    {
        RuleTable table = RuleTable.Default;

        Assert.True(table.Rules.Count >= 25);
        Assert.Equal(table.Rules.Count, table.Rules.Select(r => r.Code).Distinct(StringComparer.Ordinal).Count());
        Assert.All(table.Rules, r =>
        {
            Assert.False(string.IsNullOrWhiteSpace(r.Message));
            Assert.False(string.IsNullOrWhiteSpace(r.Target));
            Assert.Contains(r.Source, new[] { "azure", "azure-unverified", "capz", "ours" });
            Assert.Contains(r.Status, new[] { 400, 409 });
        });
    }

    [Fact]
    public void Default_AzureMessagesVerbatim()
    {
        Assert.Equal("Use of TrustedLaunch setting is not supported for the provided image. Please select Trusted Launch Supported Gen2 OS Image. For more information, see https://aka.ms/TrustedLaunch-FAQ.",
            Rule("TrustedLaunchImageNotSupported").Message);
        Assert.Equal("The VM size '{size.name}' is not supported for creation of VMs and Virtual Machine Scale Set with 'TrustedLaunch' security type. For more information, see https://aka.ms/TrustedLaunch-FAQ",
            Rule("TrustedLaunchVmSizeNotSupported").Message);
        Assert.Equal(409, Rule("SecurityTypeChangeRequiresDeallocation").Status);
    }

    [Theory]
    [InlineData("""{ "fact": "no.such.fact", "is": true }""", "unknown fact")]
    [InlineData("""{ "fact": "securityType", "is": "TrustedLaunch", "isNot": "Standard" }""", "exactly one")]
    public void Parse_BadCondition_Refused(string condition, string because)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Parse(condition, "m"));
        Assert.Contains(because, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownPlaceholder_Refused()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Parse("""{ "fact": "securityType", "is": "x" }""", "size {size.nme}"));
        Assert.Contains("placeholder", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_EachRule_OnePerLocation()
    {
        var facts = new VmFacts();
        foreach (string name in VmFacts.ScalarNames)
            facts.Set(name, FactValue.Null);
        facts.Set("securityType", "TrustedLaunch").Set("operation", "create");
        facts.SetList("sharedDisks", [new FactLocation("properties.storageProfile.dataDisks[0].maxShares", "2"), new FactLocation("properties.storageProfile.dataDisks[2].maxShares", "3")]);
        foreach (string name in VmFacts.ListNames.Where(n => n != "sharedDisks"))
            facts.SetList(name, []);

        IReadOnlyList<RuleViolation> violations = RuleEngine.Evaluate(RuleTable.Default, facts);

        Assert.Equal(["properties.storageProfile.dataDisks[0].maxShares", "properties.storageProfile.dataDisks[2].maxShares"], violations.Select(v => v.Error.Target));
        Assert.Contains("(maxShares 3)", violations[1].Error.Message, StringComparison.Ordinal);
    }

    private static VmRule Rule(string code) => RuleTable.Default.Rules.Single(r => r.Code == code);

    private static RuleTable Parse(string condition, string message)
    {
        string json = $$"""{"description": "d", "rules": [ {"code": "X", "category": "c", "status": 400, "when": [ {{condition}} ], "target": "t", "message": "{{message}}", "source": "ours", "summary": "s"} ]}""";
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(json));
        return RuleTable.Parse(stream);
    }
}
