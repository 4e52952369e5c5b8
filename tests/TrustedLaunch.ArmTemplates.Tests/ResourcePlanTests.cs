using System.Text.Json.Nodes;
using static TrustedLaunch.ArmTemplates.Tests.TemplateHarness;

namespace TrustedLaunch.ArmTemplates.Tests;

public class ResourcePlanTests
{
    private static string Template(string resources) => $$$"""{"parameters": {"n": {"type": "int", "defaultValue": 3}}, "resources": {{{resources}}}}""";

    [Fact]
    public void Waves_IndependentResourcesTogether_DependentsAfter()
    {
        DeploymentPlan plan = Plan(Template("""
            [{"type": "Microsoft.Compute/virtualMachines", "apiVersion": "2024-07-01", "name": "vm", "dependsOn": ["[resourceId('Microsoft.Network/networkInterfaces', 'nic')]"]},
             {"type": "Microsoft.Network/networkInterfaces", "apiVersion": "2021-05-01", "name": "nic", "dependsOn": ["vnet", "Microsoft.Network/networkSecurityGroups/nsg"]},
             {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2021-05-01", "name": "vnet"},
             {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2021-05-01", "name": "nsg"}]
            """));
        Assert.Equal(3, plan.Waves.Count);
        Assert.Equal(["vnet", "nsg"], plan.Waves[0].Select(r => r.Name));
        Assert.Equal("nic", Assert.Single(plan.Waves[1]).Name);
        Assert.Equal("vm", Assert.Single(plan.Waves[2]).Name);
        Assert.Equal(Id("Microsoft.Network/networkInterfaces", "nic"), Assert.Single(plan.Waves[2][0].DependsOn));
    }

    [Fact]
    public void CopyLoop_ExpandsWithCopyIndexAndDependsOnLoopName()
    {
        DeploymentPlan plan = Plan(Template("""
            [{"type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2021-05-01", "name": "[concat('ip', copyIndex(1))]",
              "copy": {"name": "ips", "count": "[parameters('n')]"}, "properties": {"idleTimeoutInMinutes": "[add(4, copyIndex())]"}},
             {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2021-05-01", "name": "vnet", "dependsOn": ["ips"]}]
            """));
        Assert.Equal(["ip1", "ip2", "ip3"], plan.Waves[0].Select(r => r.Name));
        Assert.Equal(3, plan.Waves[1][0].DependsOn.Count);
        JsonObject third = plan.EvaluateResource(plan.Resources[2], new MapResolver());
        Assert.Equal(6, third["properties"]!["idleTimeoutInMinutes"]!.GetValue<long>());
    }

    [Fact]
    public void PropertyCopy_BuildsArray()
    {
        DeploymentPlan plan = Plan(Template("""
            [{"type": "Microsoft.Compute/virtualMachines", "apiVersion": "2024-07-01", "name": "vm",
              "properties": {"storageProfile": {"copy": [{"name": "dataDisks", "count": 2, "input": {"lun": "[copyIndex('dataDisks')]", "createOption": "Empty", "diskSizeGB": 4}}]}}}]
            """));
        JsonObject body = plan.EvaluateResource(plan.Resources[0], new MapResolver());
        Assert.Equal("""[{"lun":0,"createOption":"Empty","diskSizeGB":4},{"lun":1,"createOption":"Empty","diskSizeGB":4}]""",
            body["properties"]!["storageProfile"]!["dataDisks"]!.ToJsonString());
    }

    [Fact]
    public void Condition_False_IsPlannedButMarked()
    {
        DeploymentPlan plan = Plan(Template("""
            [{"condition": "[equals(parameters('n'), 4)]", "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2021-05-01", "name": "vnet"},
             {"type": "Microsoft.Network/networkInterfaces", "apiVersion": "2021-05-01", "name": "nic", "dependsOn": ["vnet"]}]
            """));
        Assert.False(plan.Resources[0].Condition);
        Assert.True(plan.Resources[1].Condition);
    }

    [Fact]
    public void NestedChild_IsFlattenedAndDependsOnParent()
    {
        DeploymentPlan plan = Plan(Template("""
            [{"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2021-05-01", "name": "vnet",
              "resources": [{"type": "subnets", "apiVersion": "2021-05-01", "name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}]}]
            """));
        PlannedResource child = plan.Resources[1];
        Assert.Equal("Microsoft.Network/virtualNetworks/subnets", child.Type);
        Assert.Equal("vnet/default", child.Name);
        Assert.Equal(Id("Microsoft.Network/virtualNetworks/subnets", "vnet/default"), child.Id);
        Assert.Equal([plan.Resources[0].Id], child.DependsOn);
        JsonObject body = plan.EvaluateResource(plan.Resources[0], new MapResolver());
        Assert.False(body.ContainsKey("resources"));
    }

    [Theory]
    [InlineData("cycle", """[{"type": "A.B/c", "apiVersion": "1", "name": "x", "dependsOn": ["y"]}, {"type": "A.B/c", "apiVersion": "1", "name": "y", "dependsOn": ["x"]}]""", "Circular dependency detected")]
    [InlineData("undefined dependency", """[{"type": "A.B/c", "apiVersion": "1", "name": "x", "dependsOn": ["nothing"]}]""", "The resource 'nothing' is not defined in the template")]
    [InlineData("duplicate", """[{"type": "A.B/c", "apiVersion": "1", "name": "x"}, {"type": "A.B/c", "apiVersion": "1", "name": "X"}]""", "is defined multiple times")]
    [InlineData("segments", """[{"type": "A.B/c/d", "apiVersion": "1", "name": "x"}]""", "incorrect segment length")]
    [InlineData("copy count", """[{"type": "A.B/c", "apiVersion": "1", "name": "[concat('x', copyIndex())]", "copy": {"name": "l", "count": 801}}]""", "copy count")]
    [InlineData("condition type", """[{"condition": "yes", "type": "A.B/c", "apiVersion": "1", "name": "x"}]""", "condition must be a boolean")]
    public void Plan_BadResources_AreRefused(string label, string resources, string message)
    {
        var error = Assert.ThrowsAny<ArmTemplateException>(() => Plan(Template(resources)));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.NotEmpty(label);
    }

    [Fact]
    public void Plan_UnknownFunctionInSkippedResource_StillFailsValidation()
    {
        var error = Assert.Throws<TemplateSyntaxException>(() => Plan(Template("""
            [{"condition": false, "type": "A.B/c", "apiVersion": "1", "name": "x", "properties": {"k": "[listKeys('a', '1')]"}}]
            """)));
        Assert.Contains("'listKeys'", error.Message, StringComparison.Ordinal);
        Assert.Equal("resources[0].properties.k", error.Target);
    }
}
