using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// Referential integrity of the network model against the in-process <c>tl server</c>: a network resource in use cannot
/// be deleted (Azure's codes), a VM's NICs are validated and carried to its host with their MAC and the host forwards
/// the NSG allows, and deleting a resource group removes its network resources and deployments.
/// </summary>
public sealed class NetworkIntegrityTests(HostedArmTestService arm) : IClassFixture<HostedArmTestService>
{
    private const string Api = "2023-09-01";

    private string Path(string group, string type, string name) => $"{arm.GroupPath(group)}/providers/Microsoft.Network/{type}/{name}";

    private async Task<JsonElement> PutAsync(string group, string type, string name, string body)
    {
        ArmAnswer put = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(Path(group, type, name), Api), JsonNode.Parse(body));
        Assert.True(put.Status is HttpStatusCode.Created or HttpStatusCode.OK, put.ToString());
        return put.Body;
    }

    private Task<ArmAnswer> DeleteAsync(string group, string type, string name) =>
        arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(Path(group, type, name), Api));

    // A network with one subnet, an NSG allowing SSH and HTTP (HTTP denied again by a higher-priority rule), a public IP
    // and a NIC using all three.
    private async Task<string> NetworkAsync(string group, string nic = "nic", bool publicIp = true)
    {
        string sub = arm.GroupPath(group);
        await PutAsync(group, "networkSecurityGroups", "nsg", """
            {"location": "westus", "properties": {"securityRules": [
              {"name": "SSH", "properties": {"priority": 1000, "protocol": "Tcp", "access": "Allow", "direction": "Inbound",
                "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "22"}},
              {"name": "NoHttp", "properties": {"priority": 900, "protocol": "*", "access": "Deny", "direction": "Inbound",
                "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "80"}},
              {"name": "Http", "properties": {"priority": 1100, "protocol": "Tcp", "access": "Allow", "direction": "Inbound",
                "sourceAddressPrefix": "Internet", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "80"}},
              {"name": "Wide", "properties": {"priority": 1200, "protocol": "Tcp", "access": "Allow", "direction": "Inbound",
                "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "1000-2000"}}]}}
            """);
        await PutAsync(group, "virtualNetworks", "vnet", """
            {"location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
              "subnets": [{"name": "default", "properties": {"addressPrefix": "10.1.0.0/24"}}]}}
            """);
        if (publicIp)
            await PutAsync(group, "publicIPAddresses", "ip", """{"location": "westus", "sku": {"name": "Basic"}, "properties": {"publicIPAllocationMethod": "Dynamic"}}""");
        string ip = publicIp ? $", \"publicIPAddress\": {{\"id\": \"{sub}/providers/Microsoft.Network/publicIPAddresses/ip\"}}" : "";
        JsonElement created = await PutAsync(group, "networkInterfaces", nic, $$$"""
            {"location": "westus", "properties": {
              "networkSecurityGroup": {"id": "{{{sub}}}/providers/Microsoft.Network/networkSecurityGroups/nsg"},
              "ipConfigurations": [{"name": "ipconfig1", "properties": {"privateIPAllocationMethod": "Dynamic",
                "subnet": {"id": "{{{sub}}}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default"}{{{ip}}}}}]}}
            """);
        return created.GetProperty("id").GetString()!;
    }

    private static JsonObject VmWithNics(params string[] nicIds)
    {
        JsonObject body = ArmTestService.VmBody();
        body["properties"]!["networkProfile"] = new JsonObject
        {
            ["networkInterfaces"] = new JsonArray(nicIds.Select((id, i) => (JsonNode?)new JsonObject
            {
                ["id"] = id,
                ["properties"] = new JsonObject { ["primary"] = i == 0 },
            }).ToArray()),
        };
        return body;
    }

    [Fact]
    public async Task DeleteInUse_RefusedWithAzuresCodes_UntilTheUserIsGone()
    {
        string group = await arm.CreateGroupAsync();
        string nicId = await NetworkAsync(group);

        ArmAnswer nsg = await DeleteAsync(group, "networkSecurityGroups", "nsg");
        Assert.Equal(HttpStatusCode.BadRequest, nsg.Status);
        Assert.Equal("InUseNetworkSecurityGroupCannotBeDeleted", nsg.ErrorCode);
        Assert.Contains($"in use by the following resources: {nicId}.", nsg.Error.GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
        ArmAnswer vnet = await DeleteAsync(group, "virtualNetworks", "vnet");
        Assert.Equal("InUseSubnetCannotBeDeleted", vnet.ErrorCode);
        Assert.StartsWith($"Subnet default is in use by {nicId}/ipConfigurations/ipconfig1 and cannot be deleted.", vnet.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
        ArmAnswer dropSubnet = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(Path(group, "virtualNetworks", "vnet"), Api), JsonNode.Parse("""
            {"location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}, "subnets": []}}
            """));
        Assert.Equal("InUseSubnetCannotBeDeleted", dropSubnet.ErrorCode);
        ArmAnswer ip = await DeleteAsync(group, "publicIPAddresses", "ip");
        Assert.Equal("PublicIPAddressCannotBeDeleted", ip.ErrorCode);

        JsonElement vm = await arm.CreateRunningAsync(group, "vm1", VmWithNics(nicId));
        ArmAnswer nic = await DeleteAsync(group, "networkInterfaces", "nic");
        Assert.Equal("NicInUse", nic.ErrorCode);
        Assert.Contains(vm.GetProperty("id").GetString()!, nic.Error.GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);

        ArmAnswer vmDelete = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, "vm1")));
        Assert.Equal(HttpStatusCode.Accepted, vmDelete.Status);
        await arm.Host.ConvergeAsync();
        Assert.Equal(HttpStatusCode.OK, (await DeleteAsync(group, "networkInterfaces", "nic")).Status);
        foreach ((string type, string name) in new[] { ("networkSecurityGroups", "nsg"), ("virtualNetworks", "vnet"), ("publicIPAddresses", "ip") })
            Assert.Equal(HttpStatusCode.OK, (await DeleteAsync(group, type, name)).Status);
    }

    [Fact]
    public async Task VmNics_Validated_AndCarriedToTheHostWithMacAndAllowedForwards()
    {
        string group = await arm.CreateGroupAsync();
        string nicId = await NetworkAsync(group);
        JsonElement vm = await arm.CreateRunningAsync(group, "web", VmWithNics(nicId));
        JsonElement profile = vm.GetProperty("properties").GetProperty("networkProfile").GetProperty("networkInterfaces")[0];
        Assert.Equal(nicId, profile.GetProperty("id").GetString());
        Assert.True(profile.GetProperty("properties").GetProperty("primary").GetBoolean());
        Assert.Equal("Detach", profile.GetProperty("properties").GetProperty("deleteOption").GetString());

        JsonElement spec = FakeHost.Assignment(await arm.Host.PollAsync(), "web").GetProperty("spec");
        JsonElement nic = spec.GetProperty("networkInterfaces").EnumerateArray().Single();
        JsonElement nicResource = (await arm.GetAsync(ArmTestService.WithApi(Path(group, "networkInterfaces", "nic"), Api))).Body;
        Assert.Equal(nicResource.GetProperty("properties").GetProperty("macAddress").GetString(), nic.GetProperty("macAddress").GetString());
        Assert.Equal("10.1.0.4", nic.GetProperty("privateIPAddress").GetString());
        Assert.Equal("10.1.0.0/24", nic.GetProperty("subnetPrefix").GetString());
        // SSH only: HTTP's allow is shadowed by a deny of higher priority, 1000-2000 is too wide to forward port by port.
        JsonElement forward = nic.GetProperty("hostForwards").EnumerateArray().Single();
        Assert.Equal(22, forward.GetProperty("guestPort").GetInt32());
        Assert.Equal("0.0.0.0", forward.GetProperty("hostAddress").GetString()); // the NIC has a public IP
        Assert.Equal("nsg/SSH", forward.GetProperty("rule").GetString());
        Assert.InRange(forward.GetProperty("hostPort").GetInt32(), 40000, 49999);
        JsonElement view = (await arm.GetAsync(ArmTestService.WithApi(Path(group, "networkInterfaces", "nic"), Api))).Body.GetProperty("properties");
        Assert.Equal(vm.GetProperty("id").GetString(), view.GetProperty("virtualMachine").GetProperty("id").GetString());
        Assert.Equal(forward.GetProperty("hostPort").GetInt32(), view.GetProperty("trustedLaunchExtensions").GetProperty("hostForwards")[0].GetProperty("hostPort").GetInt32());

        ArmAnswer second = await arm.PutVmAsync(group, "web2", VmWithNics(nicId));
        Assert.Equal(HttpStatusCode.BadRequest, second.Status);
        Assert.Equal("NicInUse", second.ErrorCode);
        ArmAnswer missing = await arm.PutVmAsync(group, "web3", VmWithNics(nicId.Replace("/nic", "/none", StringComparison.Ordinal)));
        Assert.Equal("InvalidResourceReference", missing.ErrorCode);
        string other = await NetworkAsync(await arm.CreateGroupAsync(), "nic2", publicIp: false);
        JsonObject twoNoPrimary = VmWithNics(nicId, other);
        twoNoPrimary["properties"]!["networkProfile"]!["networkInterfaces"]![0]!["properties"]!["primary"] = false;
        ArmAnswer noPrimary = await arm.PutVmAsync(group, "web4", twoNoPrimary);
        Assert.Contains("VirtualMachineMustHaveOneNetworkInterfaceAsPrimary", noPrimary.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NicDeleteOption_DeleteGoesWithTheVm_DetachStays()
    {
        string group = await arm.CreateGroupAsync();
        string kept = await NetworkAsync(group, "kept", publicIp: false);
        string sub = arm.GroupPath(group);
        JsonElement gone = await PutAsync(group, "networkInterfaces", "gone", $$"""
            {"location": "westus", "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
              "subnet": {"id": "{{sub}}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default"} } }]} }
            """);
        JsonObject body = VmWithNics(kept, gone.GetProperty("id").GetString()!);
        body["properties"]!["networkProfile"]!["networkInterfaces"]![1]!["properties"]!["deleteOption"] = "delete";
        JsonElement vm = await arm.CreateRunningAsync(group, "vm1", body);
        JsonElement references = vm.GetProperty("properties").GetProperty("networkProfile").GetProperty("networkInterfaces");
        Assert.Equal("Detach", references[0].GetProperty("properties").GetProperty("deleteOption").GetString());
        Assert.Equal("Delete", references[1].GetProperty("properties").GetProperty("deleteOption").GetString());

        ArmAnswer vmDelete = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, "vm1")));
        Assert.Equal(HttpStatusCode.Accepted, vmDelete.Status);
        // Until the host has removed the VM, its NICs stay (and stay in use).
        Assert.Equal(HttpStatusCode.OK, (await arm.GetAsync(ArmTestService.WithApi(Path(group, "networkInterfaces", "gone"), Api))).Status);
        await arm.Host.ConvergeAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(Path(group, "networkInterfaces", "gone"), Api))).Status);
        JsonElement detached = (await arm.GetAsync(ArmTestService.WithApi(Path(group, "networkInterfaces", "kept"), Api))).Body;
        Assert.False(detached.GetProperty("properties").TryGetProperty("virtualMachine", out _));
        // The detached NIC serves the next VM, with the address it had.
        JsonElement next = await arm.CreateRunningAsync(group, "vm2", VmWithNics(kept));
        Assert.Equal(kept, next.GetProperty("properties").GetProperty("networkProfile").GetProperty("networkInterfaces")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task NsgChange_WakesTheHostsPoll_WithTheNewForwards()
    {
        string group = await arm.CreateGroupAsync();
        string nicId = await NetworkAsync(group, "live", publicIp: false);
        await arm.CreateRunningAsync(group, "live", VmWithNics(nicId));
        JsonElement before = await arm.Host.PollAsync();
        Assert.DoesNotContain(NicForwards(before, "live"), f => f.GetProperty("guestPort").GetInt32() == 8080);

        // The host waits on its token; adding an Allow rule for 8080 changes no VM, yet its poll answers with it.
        Task<JsonElement> waiting = arm.Host.PollAsync(timeoutSeconds: 30);
        JsonElement nsg = (await arm.GetAsync(ArmTestService.WithApi(Path(group, "networkSecurityGroups", "nsg"), Api))).Body;
        var body = JsonNode.Parse(nsg.GetRawText())!.AsObject();
        body["properties"]!["securityRules"]!.AsArray().Add(JsonNode.Parse("""
            {"name": "Web", "properties": {"priority": 1300, "protocol": "Tcp", "access": "Allow", "direction": "Inbound",
              "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "8080"}}
            """));
        await PutAsync(group, "networkSecurityGroups", "nsg", body.ToJsonString());
        JsonElement after = await waiting.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.NotEqual(before.GetProperty("token").GetString(), after.GetProperty("token").GetString());
        JsonElement web = NicForwards(after, "live").Single(f => f.GetProperty("guestPort").GetInt32() == 8080);
        Assert.Equal("nsg/Web", web.GetProperty("rule").GetString());
        Assert.Equal(FakeHost.Assignment(before, "live").GetProperty("version").GetInt64(), FakeHost.Assignment(after, "live").GetProperty("version").GetInt64());
    }

    private static JsonElement[] NicForwards(JsonElement assignments, string vm) =>
        [.. FakeHost.Assignment(assignments, vm).GetProperty("spec").GetProperty("networkInterfaces")[0].GetProperty("hostForwards").EnumerateArray()];

    [Fact]
    public async Task DeleteGroup_RemovesItsNetworkResourcesAndDeployments()
    {
        string group = await arm.CreateGroupAsync();
        await NetworkAsync(group);
        string deployment = $"{arm.GroupPath(group)}/providers/Microsoft.Resources/deployments/d1";
        ArmAnswer deployed = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(deployment, "2021-04-01"), JsonNode.Parse("""
            {"properties": {"mode": "Incremental", "template": {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
              "contentVersion": "1.0.0.0", "resources": [{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01",
                "name": "fromTemplate", "location": "westus", "properties": {"securityRules": []}}]}}}
            """));
        Assert.Equal(HttpStatusCode.Created, deployed.Status);
        for (int i = 0; i < 100 && (await arm.GetAsync(ArmTestService.WithApi(deployment, "2021-04-01"))).Body.GetProperty("properties").GetProperty("provisioningState").GetString() is not "Succeeded"; i++)
            await Task.Delay(50);

        ArmAnswer deleting = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.GroupPath(group), "2021-04-01"));
        Assert.True(deleting.Status is HttpStatusCode.Accepted or HttpStatusCode.OK, deleting.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(arm.GroupPath(group), "2021-04-01"))).Status);

        await arm.CreateGroupAsync(group);
        foreach ((string type, string name) in new[] { ("networkSecurityGroups", "nsg"), ("networkSecurityGroups", "fromTemplate"), ("virtualNetworks", "vnet"), ("publicIPAddresses", "ip"), ("networkInterfaces", "nic") })
            Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(Path(group, type, name), Api))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(deployment, "2021-04-01"))).Status);
    }
}
