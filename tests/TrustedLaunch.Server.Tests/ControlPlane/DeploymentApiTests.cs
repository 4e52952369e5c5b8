using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// Template deployments against the in-process <c>tl server</c> and its host contract: Azure's Bicep-compiled
/// vm-simple-linux quickstart deployed unchanged (network, VM, outputs), redeployed as a no-op, and refused before
/// anything exists when a function, type or image is unknown.
/// </summary>
public sealed class DeploymentApiTests(HostedArmTestService arm) : IClassFixture<HostedArmTestService>
{
    private static readonly string Quickstart = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "vm-simple-linux", "azuredeploy.json"));

    private string DeploymentPath(string group, string name) => $"{arm.GroupPath(group)}/providers/Microsoft.Resources/deployments/{name}";

    private string NetworkPath(string group, string type, string name) => $"{arm.GroupPath(group)}/providers/Microsoft.Network/{type}/{name}";

    private static JsonObject Body(string template, params (string Name, JsonNode? Value)[] parameters)
    {
        var values = new JsonObject();
        foreach ((string name, JsonNode? value) in parameters)
            values[name] = new JsonObject { ["value"] = value };
        return new JsonObject
        {
            ["properties"] = new JsonObject { ["mode"] = "Incremental", ["template"] = JsonNode.Parse(template), ["parameters"] = values },
        };
    }

    private static JsonObject QuickstartBody(string securityType = "Standard", string os = "Ubuntu-2004") => Body(Quickstart,
        ("adminUsername", "azureuser"), ("adminPasswordOrKey", "Never-Echoed-9"), ("securityType", securityType), ("ubuntuOSVersion", os),
        ("vmSize", "Standard_B2s"));

    private async Task MapUbuntuAsync() => await arm.Service.Service<IImageStore>().SaveAsync(new ImageEntry
    {
        Publisher = "Canonical",
        Offer = "0001-com-ubuntu-server-focal",
        Sku = "20_04-lts-gen2",
        Version = ImageVersion.TryParse("20.04.202401010", out ImageVersion v) ? v : default,
        FilePath = "/var/lib/trustedlaunch/images/debian-12-gen2.qcow2",
        Generation = HyperVGeneration.V2,
        SecureBoot = new SecureBootFinding(true, "allowed"),
        RegisteredAt = DateTimeOffset.UnixEpoch,
    }, default);

    // Deploys and plays the host until the deployment is terminal.
    private async Task<JsonElement> DeployAsync(string group, string name, JsonObject body)
    {
        ArmAnswer accepted = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(DeploymentPath(group, name), "2021-04-01"), body);
        Assert.True(accepted.Status == HttpStatusCode.Created, accepted.ToString());
        Assert.Equal("Accepted", accepted.Body.GetProperty("properties").GetProperty("provisioningState").GetString());
        for (int i = 0; i < 300; i++)
        {
            await arm.Host.ConvergeAsync();
            ArmAnswer now = await arm.GetAsync(ArmTestService.WithApi(DeploymentPath(group, name), "2021-04-01"));
            string state = now.Body.GetProperty("properties").GetProperty("provisioningState").GetString()!;
            if (state is "Succeeded" or "Failed")
                return now.Body;
            await Task.Delay(100);
        }

        throw new TimeoutException("The deployment did not finish.");
    }

    private async Task<JsonElement[]> OperationsAsync(string group, string name)
    {
        ArmAnswer operations = await arm.GetAsync(ArmTestService.WithApi(DeploymentPath(group, name) + "/operations", "2021-04-01"));
        Assert.True(operations.Status == HttpStatusCode.OK, operations.ToString());
        return operations.Body.GetProperty("value").EnumerateArray().ToArray();
    }

    [Fact]
    public async Task Deploy_Quickstart_CreatesNetworkAndVmWithOutputs_RedeployChangesNothing()
    {
        await MapUbuntuAsync();
        string group = await arm.CreateGroupAsync();
        JsonElement deployment = await DeployAsync(group, "vm-simple-linux", QuickstartBody());

        JsonElement properties = deployment.GetProperty("properties");
        Assert.True(properties.GetProperty("provisioningState").GetString() == "Succeeded", deployment.ToString());
        string label = properties.GetProperty("parameters").GetProperty("dnsLabelPrefix").GetProperty("value").GetString()!;
        Assert.Equal($"{label}.westus.cloudapp.azure.com", properties.GetProperty("outputs").GetProperty("hostname").GetProperty("value").GetString());
        Assert.Equal($"ssh azureuser@{label}.westus.cloudapp.azure.com", properties.GetProperty("outputs").GetProperty("sshCommand").GetProperty("value").GetString());
        Assert.Equal("SecureString", properties.GetProperty("parameters").GetProperty("adminPasswordOrKey").GetProperty("type").GetString());
        Assert.DoesNotContain("Never-Echoed-9", deployment.ToString(), StringComparison.Ordinal);

        JsonElement[] operations = await OperationsAsync(group, "vm-simple-linux");
        Assert.Equal(6, operations.Length); // the extension's condition is false for a Standard VM: no operation
        Assert.All(operations, o => Assert.Equal("Succeeded", o.GetProperty("properties").GetProperty("provisioningState").GetString()));
        Assert.Contains(operations, o => o.GetProperty("properties").GetProperty("targetResource").GetProperty("resourceType").GetString() == "Microsoft.Compute/virtualMachines");

        ArmAnswer nic = await arm.GetAsync(ArmTestService.WithApi(NetworkPath(group, "networkInterfaces", "simpleLinuxVMNetInt"), "2021-05-01"));
        JsonElement ipConfiguration = nic.Body.GetProperty("properties").GetProperty("ipConfigurations")[0].GetProperty("properties");
        Assert.Equal("10.1.0.4", ipConfiguration.GetProperty("privateIPAddress").GetString());
        Assert.StartsWith("00-0D-3A-", nic.Body.GetProperty("properties").GetProperty("macAddress").GetString(), StringComparison.Ordinal);
        ArmAnswer subnet = await arm.GetAsync(ArmTestService.WithApi(NetworkPath(group, "virtualNetworks", "vNet") + "/subnets/Subnet", "2021-05-01"));
        Assert.Equal("10.1.0.0/24", subnet.Body.GetProperty("properties").GetProperty("addressPrefix").GetString());
        ArmAnswer vmBefore = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "simpleLinuxVM")));
        string? nicEtag = nic.Body.GetProperty("etag").GetString();

        JsonElement again = await DeployAsync(group, "vm-simple-linux", QuickstartBody());
        Assert.Equal("Succeeded", again.GetProperty("properties").GetProperty("provisioningState").GetString());
        JsonElement[] second = await OperationsAsync(group, "vm-simple-linux");
        Assert.All(second, o => Assert.True(o.GetProperty("properties").GetProperty("trustedLaunchExtensions").GetProperty("unchanged").GetBoolean(), o.ToString()));
        ArmAnswer vmAfter = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "simpleLinuxVM")));
        Assert.Equal(vmBefore.Body.GetProperty("etag").GetString(), vmAfter.Body.GetProperty("etag").GetString());
        ArmAnswer nicAfter = await arm.GetAsync(ArmTestService.WithApi(NetworkPath(group, "networkInterfaces", "simpleLinuxVMNetInt"), "2021-05-01"));
        Assert.Equal(nicEtag, nicAfter.Body.GetProperty("etag").GetString());
    }

    [Fact]
    public async Task WhatIf_BeforeAndAfterDeploying_CreateThenNoChangeThenTheChangedProperty_ValidateCreatesNothing()
    {
        await MapUbuntuAsync();
        string group = await arm.CreateGroupAsync();
        string path = DeploymentPath(group, "vm-simple-linux");

        ArmAnswer valid = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(path + "/validate", "2021-04-01"), QuickstartBody());
        Assert.True(valid.Status == HttpStatusCode.OK, valid.ToString());
        Assert.Equal(6, valid.Body.GetProperty("properties").GetProperty("validatedResources").GetArrayLength());
        Assert.DoesNotContain("Never-Echoed-9", valid.Body.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(path, "2021-04-01"))).Status); // validate stores nothing
        ArmAnswer invalid = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(path + "/validate", "2021-04-01"), QuickstartBody(os: "Ubuntu-2204"));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.Status);
        Assert.Equal("InvalidTemplateDeployment", invalid.ErrorCode);

        JsonElement[] before = await WhatIfAsync(path, QuickstartBody());
        Assert.Equal(6, before.Length);
        Assert.All(before, c => Assert.Equal("Create", c.GetProperty("changeType").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "simpleLinuxVM")))).Status);

        Assert.Equal("Succeeded", (await DeployAsync(group, "vm-simple-linux", QuickstartBody())).GetProperty("properties").GetProperty("provisioningState").GetString());
        JsonElement[] after = await WhatIfAsync(path, QuickstartBody());
        Assert.All(after, c => Assert.True(c.GetProperty("changeType").GetString() == "NoChange", c.ToString()));

        JsonObject resized = Body(Quickstart, ("adminUsername", "azureuser"), ("adminPasswordOrKey", "Never-Echoed-9"), ("securityType", "Standard"),
            ("ubuntuOSVersion", "Ubuntu-2004"), ("vmSize", "Standard_D2s_v3"));
        JsonElement[] changed = await WhatIfAsync(path, resized);
        JsonElement vm = Assert.Single(changed, c => c.GetProperty("changeType").GetString() == "Modify");
        Assert.EndsWith("/virtualMachines/simpleLinuxVM", vm.GetProperty("resourceId").GetString(), StringComparison.Ordinal);
        JsonElement delta = Assert.Single(vm.GetProperty("delta").EnumerateArray());
        Assert.Equal("properties.hardwareProfile.vmSize", delta.GetProperty("path").GetString());
        Assert.Equal("Standard_B2s", delta.GetProperty("before").GetString());
        Assert.Equal("Standard_D2s_v3", delta.GetProperty("after").GetString());
        Assert.Equal(5, changed.Count(c => c.GetProperty("changeType").GetString() == "NoChange"));
        ArmAnswer vmNow = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "simpleLinuxVM")));
        Assert.Equal("Standard_B2s", vmNow.Body.GetProperty("properties").GetProperty("hardwareProfile").GetProperty("vmSize").GetString()); // what-if changed nothing
    }

    private async Task<JsonElement[]> WhatIfAsync(string deploymentPath, JsonObject body)
    {
        ArmAnswer answer = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(deploymentPath + "/whatIf", "2021-04-01"), body);
        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        Assert.Equal("Succeeded", answer.Body.GetProperty("status").GetString());
        return answer.Body.GetProperty("properties").GetProperty("changes").EnumerateArray().ToArray();
    }

    [Fact]
    public async Task Deploy_UnmappedImage_RefusedNamingItBeforeAnythingExists()
    {
        string group = await arm.CreateGroupAsync();
        ArmAnswer refused = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(DeploymentPath(group, "d1"), "2021-04-01"), QuickstartBody(os: "Ubuntu-2204"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("InvalidTemplateDeployment", refused.ErrorCode);
        JsonElement inner = refused.Error.GetProperty("details")[0];
        Assert.Equal("PlatformImageNotFound", inner.GetProperty("code").GetString());
        Assert.Contains("Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest", inner.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(NetworkPath(group, "networkSecurityGroups", "SecGroupNet"), "2021-05-01"))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(DeploymentPath(group, "d1"), "2021-04-01"))).Status);
    }

    [Fact]
    public async Task Deploy_UnknownFunctionAndType_RefusedNamingThem()
    {
        string group = await arm.CreateGroupAsync();
        ArmAnswer function = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(DeploymentPath(group, "f"), "2021-04-01"), Body("""
            {"resources": [{"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2021-05-01", "name": "[listKeys('a', '1')]"}]}
            """));
        Assert.Equal(HttpStatusCode.BadRequest, function.Status);
        Assert.Equal("InvalidTemplate", function.ErrorCode);
        Assert.Contains("'listKeys'", function.Error.GetProperty("message").GetString(), StringComparison.Ordinal);

        ArmAnswer type = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(DeploymentPath(group, "t"), "2021-04-01"), Body("""
            {"resources": [{"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01", "name": "sa", "location": "westus"},
                           {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2021-05-01", "name": "vn", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}]}
            """));
        Assert.Equal("InvalidResourceType", type.ErrorCode);
        Assert.Contains("'Microsoft.Storage/storageAccounts'", type.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(NetworkPath(group, "virtualNetworks", "vn"), "2021-05-01"))).Status);

        ArmAnswer missing = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(DeploymentPath(group, "p"), "2021-04-01"), Body(Quickstart));
        Assert.Equal("InvalidTemplate", missing.ErrorCode);
        Assert.Contains("The value for the template parameter 'adminUsername' is not provided", missing.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_SubnetOutsideNetwork_FailsWithDeploymentFailedAndInnerError()
    {
        string group = await arm.CreateGroupAsync();
        JsonElement failed = await DeployAsync(group, "bad", Body("""
            {"resources": [
              {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2021-05-01", "name": "nsg", "location": "westus", "properties": {"securityRules": []}},
              {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2021-05-01", "name": "vn", "location": "westus",
               "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": [{"name": "s", "properties": {"addressPrefix": "10.9.0.0/24"}}]}},
              {"type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2021-05-01", "name": "ip", "location": "westus", "dependsOn": ["vn"]}]}
            """));
        JsonElement error = failed.GetProperty("properties").GetProperty("error");
        Assert.Equal("DeploymentFailed", error.GetProperty("code").GetString());
        Assert.Equal("At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.",
            error.GetProperty("message").GetString());
        Assert.Equal("NetcfgSubnetRangeOutsideVnet", error.GetProperty("details")[0].GetProperty("code").GetString());
        JsonElement[] operations = await OperationsAsync(group, "bad");
        Assert.Equal(2, operations.Length); // the public IP waits for the network and never starts
        JsonElement vnet = operations.Single(o => o.GetProperty("properties").GetProperty("targetResource").GetProperty("resourceName").GetString() == "vn");
        Assert.Equal("Failed", vnet.GetProperty("properties").GetProperty("provisioningState").GetString());
        Assert.Equal("BadRequest", vnet.GetProperty("properties").GetProperty("statusCode").GetString());
    }

    [Theory]
    [InlineData("networkSecurityGroups", """{"location": "westus", "properties": {"securityRules": [{"name": "r", "properties": {"priority": 50, "access": "Allow", "direction": "Inbound", "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "70000", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*"}}]}}""", "SecurityRuleInvalidPriority,SecurityRuleInvalidPortRange")]
    [InlineData("virtualNetworks", """{"location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.1/16"]}}}""", "InvalidCIDRNotation")]
    [InlineData("virtualNetworks", """{"location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": [{"name": "a", "properties": {"addressPrefix": "10.0.0.0/24"}}, {"name": "b", "properties": {"addressPrefix": "10.0.0.128/25"}}]}}""", "NetcfgSubnetRangesOverlap")]
    [InlineData("publicIPAddresses", """{"location": "westus", "sku": {"name": "Premium"}, "properties": {"dnsSettings": {"domainNameLabel": "Bad_Label"}}}""", "InvalidPublicIPSku,InvalidDomainNameLabel")]
    [InlineData("networkInterfaces", """{"location": "westus", "properties": {"ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/none/subnets/s"}}}]}}""", "InvalidResourceReference")]
    public async Task PutNetwork_Invalid_RefusedWithEveryViolation(string type, string body, string codes)
    {
        string group = await arm.CreateGroupAsync();
        ArmAnswer refused = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(NetworkPath(group, type, "x"), "2021-05-01"), JsonNode.Parse(body));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal(codes.Split(','), refused.Error.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("code").GetString()!));
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(NetworkPath(group, type, "x"), "2021-05-01"))).Status);
    }
}
