using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// Deployment mode Complete, as ARM runs it: after the template's resources are deployed, the group's resources it does
/// not name are deleted (a VM before its NIC, a NIC before its network), each an operation with provisioningOperation
/// Delete; what-if lists them as Delete, and in Incremental mode as Ignore.
/// </summary>
public sealed class DeploymentCompleteModeTests(HostedArmTestService arm) : IClassFixture<HostedArmTestService>
{
    private const string Template = """
        {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
         "resources": [{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01", "name": "keep", "location": "westus",
           "properties": {"securityRules": []}}]}
        """;

    [Fact]
    public async Task Complete_DeletesWhatTheTemplateDoesNotName_WhatIfSaysSo()
    {
        string group = await arm.CreateGroupAsync();
        await PutNetworkAsync(group, "networkSecurityGroups", "keep", """{"location": "westus", "properties": {"securityRules": []}}""");
        await PutNetworkAsync(group, "networkSecurityGroups", "extra", """{"location": "westus", "properties": {"securityRules": []}}""");
        await PutNetworkAsync(group, "virtualNetworks", "extraNet", """
            {"location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.7.0.0/16"]},
              "subnets": [{"name": "default", "properties": {"addressPrefix": "10.7.0.0/24"}}]}}
            """);
        string nicId = await PutNetworkAsync(group, "networkInterfaces", "extraNic", $$"""
            {"location": "westus", "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
              "subnet": {"id": "{{NetworkPath(group, "virtualNetworks", "extraNet")}}/subnets/default"} } }]} }
            """);
        JsonObject vm = ArmTestService.VmBody();
        vm["properties"]!["networkProfile"] = new JsonObject { ["networkInterfaces"] = new JsonArray(new JsonObject { ["id"] = nicId }) };
        await arm.CreateRunningAsync(group, "extraVm", vm);
        string[] others =
        [
            arm.VmPath(group, "extraVm"), NetworkPath(group, "networkInterfaces", "extraNic"),
            NetworkPath(group, "networkSecurityGroups", "extra"), NetworkPath(group, "virtualNetworks", "extraNet"),
        ];

        // What-if: Incremental leaves them (Ignore), Complete deletes them (Delete, with their state as before).
        JsonElement[] incremental = await WhatIfAsync(group, "Incremental");
        Assert.Equal("NoChange", Change(incremental, NetworkPath(group, "networkSecurityGroups", "keep")).GetProperty("changeType").GetString());
        Assert.All(others, id => Assert.Equal("Ignore", Change(incremental, id).GetProperty("changeType").GetString()));
        JsonElement[] complete = await WhatIfAsync(group, "Complete");
        Assert.All(others, id => Assert.Equal("Delete", Change(complete, id).GetProperty("changeType").GetString()));
        Assert.Equal("extraNic", Change(complete, others[1]).GetProperty("before").GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.OK, (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "extraVm")))).Status); // what-if changed nothing

        JsonElement deployed = await DeployAsync(group, "complete", Body("Complete"));

        Assert.Equal("Succeeded", deployed.GetProperty("properties").GetProperty("provisioningState").GetString());
        Assert.Equal("Complete", deployed.GetProperty("properties").GetProperty("mode").GetString());
        JsonElement[] deletes = [.. (await arm.GetAsync(ArmTestService.WithApi(DeploymentPath(group, "complete") + "/operations", "2021-04-01"))).Body
            .GetProperty("value").EnumerateArray().Where(o => o.GetProperty("properties").GetProperty("provisioningOperation").GetString() == "Delete")];
        // In ARM's order: the VM before its NIC, the NIC before the network and NSG.
        Assert.Equal(others.Select(p => p.ToUpperInvariant()), deletes.Select(o => o.GetProperty("properties").GetProperty("targetResource").GetProperty("id").GetString()!.ToUpperInvariant())
            .OrderBy(id => Array.FindIndex(others, p => p.Equals(id, StringComparison.OrdinalIgnoreCase))));
        Assert.All(deletes, o => Assert.Equal("Succeeded", o.GetProperty("properties").GetProperty("provisioningState").GetString()));
        foreach (string id in others)
            Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(id == others[0] ? ArmTestService.WithApi(id) : ArmTestService.WithApi(id, "2023-09-01"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await arm.GetAsync(ArmTestService.WithApi(NetworkPath(group, "networkSecurityGroups", "keep"), "2023-09-01"))).Status);
    }

    private static JsonElement Change(JsonElement[] changes, string path) =>
        changes.Single(c => c.GetProperty("resourceId").GetString()!.EndsWith(path, StringComparison.OrdinalIgnoreCase));

    private static JsonObject Body(string mode) => new()
    {
        ["properties"] = new JsonObject { ["mode"] = mode, ["template"] = JsonNode.Parse(Template), ["parameters"] = new JsonObject() },
    };

    private string DeploymentPath(string group, string name) => $"{arm.GroupPath(group)}/providers/Microsoft.Resources/deployments/{name}";

    private string NetworkPath(string group, string type, string name) => $"{arm.GroupPath(group)}/providers/Microsoft.Network/{type}/{name}";

    private async Task<string> PutNetworkAsync(string group, string type, string name, string body)
    {
        ArmAnswer put = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(NetworkPath(group, type, name), "2023-09-01"), JsonNode.Parse(body));
        Assert.True(put.Status == HttpStatusCode.Created, put.ToString());
        return put.Body.GetProperty("id").GetString()!;
    }

    private async Task<JsonElement[]> WhatIfAsync(string group, string mode)
    {
        ArmAnswer answer = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(DeploymentPath(group, "complete") + "/whatIf", "2021-04-01"), Body(mode));
        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        return [.. answer.Body.GetProperty("properties").GetProperty("changes").EnumerateArray()];
    }

    // Deploys and plays the host (the VM's deletion is its host's) until the deployment is terminal.
    private async Task<JsonElement> DeployAsync(string group, string name, JsonObject body)
    {
        ArmAnswer accepted = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(DeploymentPath(group, name), "2021-04-01"), body);
        Assert.True(accepted.Status == HttpStatusCode.Created, accepted.ToString());
        for (int i = 0; i < 300; i++)
        {
            await arm.Host.ConvergeAsync();
            ArmAnswer now = await arm.GetAsync(ArmTestService.WithApi(DeploymentPath(group, name), "2021-04-01"));
            if (now.Body.GetProperty("properties").GetProperty("provisioningState").GetString() is "Succeeded" or "Failed")
                return now.Body;
            await Task.Delay(100);
        }

        throw new TimeoutException("The deployment did not finish.");
    }
}
