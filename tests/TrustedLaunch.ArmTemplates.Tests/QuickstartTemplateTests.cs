using System.Text.Json.Nodes;
using static TrustedLaunch.ArmTemplates.Tests.TemplateHarness;

namespace TrustedLaunch.ArmTemplates.Tests;

/// <summary>Azure's Bicep-compiled vm-simple-linux quickstart (TestData/vm-simple-linux/README.md), planned unchanged.</summary>
public class QuickstartTemplateTests
{
    private static readonly string TemplateText = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "vm-simple-linux", "azuredeploy.json"));

    private static DeploymentPlan PlanIt(string securityType = "TrustedLaunch") => Plan(TemplateText, new Dictionary<string, JsonNode?>
    {
        ["adminUsername"] = "azureuser",
        ["adminPasswordOrKey"] = "Not-Logged-0",
        ["securityType"] = securityType,
    });

    [Fact]
    public void Plan_TrustedLaunch_OrdersNetworkBeforeVmBeforeExtension()
    {
        DeploymentPlan plan = PlanIt();
        Assert.Equal("bicep 0.14.46.61228", ArmTemplate.Parse(TemplateText).Generator);
        string[][] waves = plan.Waves.Select(w => w.Select(r => r.Type).ToArray()).ToArray();
        Assert.Equal(["Microsoft.Network/networkSecurityGroups", "Microsoft.Network/virtualNetworks", "Microsoft.Network/publicIPAddresses"], waves[0]);
        Assert.Equal(["Microsoft.Network/virtualNetworks/subnets"], waves[1]);
        Assert.Equal(["Microsoft.Network/networkInterfaces"], waves[2]);
        Assert.Equal(["Microsoft.Compute/virtualMachines"], waves[3]);
        Assert.Equal(["Microsoft.Compute/virtualMachines/extensions"], waves[4]);
        Assert.True(plan.Resources.Single(r => r.Type.EndsWith("extensions", StringComparison.Ordinal)).Condition);
    }

    [Fact]
    public void EvaluateResource_Vm_HasTrustedLaunchAndGen2Image()
    {
        DeploymentPlan plan = PlanIt();
        JsonObject vm = plan.EvaluateResource(plan.Resources.Single(r => r.Type == "Microsoft.Compute/virtualMachines"), new MapResolver());
        JsonNode properties = vm["properties"]!;
        Assert.Equal("TrustedLaunch", properties["securityProfile"]!["securityType"]!.GetValue<string>());
        Assert.True(properties["securityProfile"]!["uefiSettings"]!["vTpmEnabled"]!.GetValue<bool>());
        Assert.Equal("""{"publisher":"Canonical","offer":"0001-com-ubuntu-server-focal","sku":"20_04-lts-gen2","version":"latest"}""",
            properties["storageProfile"]!["imageReference"]!.ToJsonString());
        Assert.Null(properties["osProfile"]!["linuxConfiguration"]);
        Assert.Equal(Id("Microsoft.Network/networkInterfaces", "simpleLinuxVMNetInt"), properties["networkProfile"]!["networkInterfaces"]![0]!["id"]!.GetValue<string>());
        Assert.Equal("westus", vm["location"]!.GetValue<string>());
    }

    [Fact]
    public void EvaluateResource_Extension_IsGuestAttestationWithEmptyEndpoint()
    {
        DeploymentPlan plan = PlanIt();
        PlannedResource extension = plan.Resources.Single(r => r.Type == "Microsoft.Compute/virtualMachines/extensions");
        Assert.Equal("simpleLinuxVM/GuestAttestation", extension.Name);
        JsonObject body = plan.EvaluateResource(extension, new MapResolver());
        Assert.Equal("Microsoft.Azure.Security.LinuxAttestation", body["properties"]!["publisher"]!.GetValue<string>());
        Assert.Equal("", body["properties"]!["settings"]!["AttestationConfig"]!["MaaSettings"]!["maaEndpoint"]!.GetValue<string>());
    }

    [Fact]
    public void Plan_Standard_SkipsExtensionAndSecurityProfile()
    {
        DeploymentPlan plan = PlanIt("Standard");
        Assert.False(plan.Resources.Single(r => r.Type.EndsWith("extensions", StringComparison.Ordinal)).Condition);
        JsonObject vm = plan.EvaluateResource(plan.Resources.Single(r => r.Type == "Microsoft.Compute/virtualMachines"), new MapResolver());
        Assert.Null(vm["properties"]!["securityProfile"]);
    }

    [Fact]
    public void Outputs_ResolveThroughReference()
    {
        DeploymentPlan plan = PlanIt();
        string dnsLabel = plan.ParametersForDisplay()["dnsLabelPrefix"]!["value"]!.GetValue<string>();
        Assert.Equal($"simplelinuxvm-{Functions.UniqueString.Compute(Scope.ResourceGroupId)}", dnsLabel);
        var resolver = new MapResolver();
        resolver.States[Id("Microsoft.Network/publicIPAddresses", "simpleLinuxVMPublicIP")] = new JsonObject
        {
            ["properties"] = new JsonObject { ["dnsSettings"] = new JsonObject { ["fqdn"] = $"{dnsLabel}.westus.cloudapp.azure.com" } },
        };
        JsonObject outputs = plan.EvaluateOutputs(resolver);
        Assert.Equal("azureuser", outputs["adminUsername"]!["value"]!.GetValue<string>());
        Assert.Equal($"ssh azureuser@{dnsLabel}.westus.cloudapp.azure.com", outputs["sshCommand"]!["value"]!.GetValue<string>());
        Assert.DoesNotContain("Not-Logged-0", plan.ParametersForDisplay().ToJsonString(), StringComparison.Ordinal);
    }
}
