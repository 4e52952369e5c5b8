using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// A flexible scale set's <c>networkProfile.networkInterfaceConfigurations</c>: every instance gets its own NIC resource
/// (<c>{instance}-{configuration}</c>, a private IP of the subnet, the configuration's NSG as host forwards), deleted
/// with its instance unless the configuration says Detach; the model's references are validated before anything is made.
/// </summary>
public sealed class ScaleSetNetworkTests(HostedArmTestService arm) : IClassFixture<HostedArmTestService>
{
    private const string NetworkApi = "2023-09-01";

    [Fact]
    public async Task Instances_GetTheirOwnNics_ScaleInAndDeleteTakeThem()
    {
        string group = await arm.CreateGroupAsync();
        await NetworkAsync(group);

        ArmAnswer created = await PutAsync(group, "web", Body(group, capacity: 2));
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        JsonElement configuration = created.Body.GetProperty("properties").GetProperty("virtualMachineProfile").GetProperty("networkProfile")
            .GetProperty("networkInterfaceConfigurations")[0];
        Assert.Equal("Delete", configuration.GetProperty("properties").GetProperty("deleteOption").GetString()); // Azure's default for flexible scale sets
        Assert.True(configuration.GetProperty("properties").GetProperty("primary").GetBoolean());
        await arm.Host.ConvergeAsync();

        JsonElement[] instances = await InstancesAsync(group, "web");
        Assert.Equal(2, instances.Length);
        var addresses = new List<string>();
        foreach (JsonElement instance in instances)
        {
            string name = instance.GetProperty("name").GetString()!;
            JsonElement reference = instance.GetProperty("properties").GetProperty("networkProfile").GetProperty("networkInterfaces").EnumerateArray().Single();
            Assert.Equal(NicPath(group, $"{name}-nic"), reference.GetProperty("id").GetString(), ignoreCase: true);
            Assert.Equal("Delete", reference.GetProperty("properties").GetProperty("deleteOption").GetString());
            JsonElement nic = (await arm.GetAsync(ArmTestService.WithApi(NicPath(group, $"{name}-nic"), NetworkApi))).Body.GetProperty("properties");
            Assert.Equal(instance.GetProperty("id").GetString(), nic.GetProperty("virtualMachine").GetProperty("id").GetString());
            Assert.EndsWith("/networkSecurityGroups/nsg", nic.GetProperty("networkSecurityGroup").GetProperty("id").GetString(), StringComparison.Ordinal);
            addresses.Add(nic.GetProperty("ipConfigurations")[0].GetProperty("properties").GetProperty("privateIPAddress").GetString()!);
            JsonElement spec = FakeHost.Assignment(await arm.Host.PollAsync(), name).GetProperty("spec");
            JsonElement hostNic = spec.GetProperty("networkInterfaces").EnumerateArray().Single();
            Assert.Equal(22, hostNic.GetProperty("hostForwards").EnumerateArray().Single().GetProperty("guestPort").GetInt32());
        }

        Assert.Equal(["10.3.0.4", "10.3.0.5"], addresses.Order());

        // Scale in to one: the removed instance's NIC goes with it, the kept one's stays.
        arm.Service.Clock.Advance(TimeSpan.FromSeconds(1));
        ArmAnswer scaled = await arm.SendAsync(HttpMethod.Patch, ArmTestService.WithApi(ScaleSetPath(group, "web")), new JsonObject { ["sku"] = new JsonObject { ["capacity"] = 1 } });
        Assert.Equal(HttpStatusCode.OK, scaled.Status);
        await arm.Host.ConvergeAsync();
        string kept = (await InstancesAsync(group, "web")).Single().GetProperty("name").GetString()!;
        string removed = instances.Select(i => i.GetProperty("name").GetString()!).Single(n => n != kept);
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(NicPath(group, $"{removed}-nic"), NetworkApi))).Status);
        Assert.Equal(HttpStatusCode.OK, (await arm.GetAsync(ArmTestService.WithApi(NicPath(group, $"{kept}-nic"), NetworkApi))).Status);

        // Deleting the scale set takes the last NIC; the network is then free to go.
        Assert.Equal(HttpStatusCode.Accepted, (await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(ScaleSetPath(group, "web")))).Status);
        await arm.Host.ConvergeAsync();
        await arm.GetAsync(ArmTestService.WithApi(ScaleSetPath(group, "web")));
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(NicPath(group, $"{kept}-nic"), NetworkApi))).Status);
        Assert.Equal(HttpStatusCode.OK, (await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(NetworkPath(group, "virtualNetworks", "vnet"), NetworkApi))).Status);
    }

    [Fact]
    public async Task Detach_TheNicStaysWhenItsInstanceGoes()
    {
        string group = await arm.CreateGroupAsync();
        await NetworkAsync(group);
        JsonObject body = Body(group, capacity: 1);
        body["properties"]!["virtualMachineProfile"]!["networkProfile"]!["networkInterfaceConfigurations"]![0]!["properties"]!["deleteOption"] = "Detach";
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(group, "det", body)).Status);
        await arm.Host.ConvergeAsync();
        string instance = (await InstancesAsync(group, "det")).Single().GetProperty("name").GetString()!;

        Assert.Equal(HttpStatusCode.Accepted, (await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, instance)))).Status);
        await arm.Host.ConvergeAsync();

        JsonElement nic = (await arm.GetAsync(ArmTestService.WithApi(NicPath(group, $"{instance}-nic"), NetworkApi))).Body;
        Assert.False(nic.GetProperty("properties").TryGetProperty("virtualMachine", out _));
    }

    [Fact]
    public async Task Invalid_NetworkProfile_RefusedWithEveryViolation_NothingMade()
    {
        string group = await arm.CreateGroupAsync();
        await NetworkAsync(group);
        JsonObject body = Body(group, capacity: 1);
        var profile = (JsonObject)body["properties"]!["virtualMachineProfile"]!["networkProfile"]!;
        profile.Remove("networkApiVersion");
        var first = (JsonObject)profile["networkInterfaceConfigurations"]![0]!;
        first["properties"]!["deleteOption"] = "Keep";
        first["properties"]!["ipConfigurations"]![0]!["properties"]!["subnet"]!["id"] = NetworkPath(group, "virtualNetworks", "vnet") + "/subnets/none";
        var second = (JsonObject)first.DeepClone();
        second["name"] = "nic2";
        second["properties"]!["deleteOption"] = "Delete";
        ((JsonArray)profile["networkInterfaceConfigurations"]!).Add(second);

        ArmAnswer refused = await PutAsync(group, "bad", body);

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        string[] targets = [.. refused.Error.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("target").GetString()!)];
        const string Profile = "properties.virtualMachineProfile.networkProfile";
        Assert.Contains($"{Profile}.networkApiVersion", targets);
        Assert.Contains($"{Profile}.networkInterfaceConfigurations[0].properties.deleteOption", targets);
        Assert.Contains($"{Profile}.networkInterfaceConfigurations", targets); // two configurations, none primary
        Assert.Contains("VirtualMachineScaleSetMustHaveOneNetworkInterfaceConfigurationAsPrimary", refused.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(ScaleSetPath(group, "bad")))).Status);

        // The shape fixed, the missing subnet is named as Azure names a missing reference.
        profile["networkApiVersion"] = "2020-11-01";
        first["properties"]!["deleteOption"] = "Delete";
        first["properties"]!["primary"] = true;
        ArmAnswer missing = await PutAsync(group, "bad", body);
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidResourceReference"), (missing.Status, missing.Error.GetProperty("details")[0].GetProperty("code").GetString()));
        Assert.Contains("/subnets/none referenced by resource", missing.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(ScaleSetPath(group, "bad")))).Status);
    }

    private JsonObject Body(string group, long capacity)
    {
        JsonObject body = ScaleSetApiTests.Body(capacity);
        body["properties"]!["virtualMachineProfile"]!["networkProfile"] = JsonNode.Parse($$"""
            {"networkApiVersion": "2020-11-01", "networkInterfaceConfigurations": [{"name": "nic", "properties": {
              "networkSecurityGroup": {"id": "{{NetworkPath(group, "networkSecurityGroups", "nsg")}}"},
              "ipConfigurations": [{"name": "ipconfig1", "properties": {
                "subnet": {"id": "{{NetworkPath(group, "virtualNetworks", "vnet")}}/subnets/default"} } }]} }]}
            """);
        return body;
    }

    private async Task NetworkAsync(string group)
    {
        foreach ((string type, string name, string body) in new[]
        {
            ("networkSecurityGroups", "nsg", """
                {"location": "westus", "properties": {"securityRules": [{"name": "SSH", "properties": {"priority": 1000, "protocol": "Tcp",
                  "access": "Allow", "direction": "Inbound", "sourceAddressPrefix": "*", "sourcePortRange": "*",
                  "destinationAddressPrefix": "*", "destinationPortRange": "22"}}]}}
                """),
            ("virtualNetworks", "vnet", """
                {"location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.3.0.0/16"]},
                  "subnets": [{"name": "default", "properties": {"addressPrefix": "10.3.0.0/24"}}]}}
                """),
        })
        {
            ArmAnswer put = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(NetworkPath(group, type, name), NetworkApi), JsonNode.Parse(body));
            Assert.True(put.Status is HttpStatusCode.Created, put.ToString());
        }
    }

    private string NetworkPath(string group, string type, string name) => $"{arm.GroupPath(group)}/providers/Microsoft.Network/{type}/{name}";

    private string NicPath(string group, string name) => NetworkPath(group, "networkInterfaces", name);

    private string ScaleSetPath(string group, string name) => $"{arm.GroupPath(group)}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}";

    private Task<ArmAnswer> PutAsync(string group, string name, JsonObject body) =>
        arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(ScaleSetPath(group, name)), body);

    private async Task<JsonElement[]> InstancesAsync(string group, string name)
    {
        ArmAnswer listed = await arm.GetAsync(ArmTestService.WithApi(ScaleSetPath(group, name) + "/virtualMachines"));
        Assert.True(listed.Status == HttpStatusCode.OK, listed.ToString());
        return [.. listed.Body.GetProperty("value").EnumerateArray()];
    }
}
