using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>A VM never placed (no host registered) is deleted at once, and its <c>deleteOption: Delete</c> NIC with it.</summary>
public sealed class NicReleaseUnplacedTests(ArmTestService arm) : IClassFixture<ArmTestService>
{
    private const string Api = "2023-09-01";

    private string Path(string group, string type, string name) => $"{arm.GroupPath(group)}/providers/Microsoft.Network/{type}/{name}";

    [Fact]
    public async Task NicDeleteOption_Delete_OfANeverPlacedVm_GoesAtOnce()
    {
        string group = await arm.CreateGroupAsync();
        ArmAnswer vnet = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(Path(group, "virtualNetworks", "vnet"), Api), JsonNode.Parse("""
            {"location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.2.0.0/16"]},
              "subnets": [{"name": "default", "properties": {"addressPrefix": "10.2.0.0/24"}}]}}
            """));
        Assert.Equal(HttpStatusCode.Created, vnet.Status);
        ArmAnswer nic = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(Path(group, "networkInterfaces", "solo"), Api), JsonNode.Parse($$"""
            {"location": "westus", "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
              "subnet": {"id": "{{arm.GroupPath(group)}}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default"} } }]} }
            """));
        Assert.Equal(HttpStatusCode.Created, nic.Status);
        JsonObject body = ArmTestService.VmBody();
        body["properties"]!["networkProfile"] = JsonNode.Parse($$"""
            {"networkInterfaces": [{"id": "{{nic.Body.GetProperty("id").GetString()}}", "properties": {"deleteOption": "Delete"} }]}
            """);
        ArmAnswer put = await arm.PutVmAsync(group, "waiting", body);
        Assert.Equal(HttpStatusCode.Created, put.Status); // no host: it waits for one

        ArmAnswer vmDelete = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, "waiting")));
        Assert.True(vmDelete.Status is HttpStatusCode.Accepted or HttpStatusCode.OK, vmDelete.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "waiting")))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(Path(group, "networkInterfaces", "solo"), Api))).Status);
    }
}
