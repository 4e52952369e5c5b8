using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// Microsoft.Compute/virtualMachineScaleSets (flexible orchestration) through the API, with a host that converges on
/// request: instances are full VMs, the model's rules are judged once, capacity scales out and in, the operation
/// completes when the instances have converged, and a delete takes every instance.
/// </summary>
public sealed class ScaleSetApiTests(HostedArmTestService arm) : IClassFixture<HostedArmTestService>
{
    [Fact]
    public async Task Put_FlexibleTrustedLaunch_InstancesAreFullVms_OperationCompletesWhenTheyRun()
    {
        string group = await arm.CreateGroupAsync();

        ArmAnswer created = await PutAsync(group, "web", Body(capacity: 3));

        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        Assert.Equal("\"1\"", created.Headers.ETag?.Tag);
        Assert.Equal("Creating", created.Body.GetProperty("properties").GetProperty("provisioningState").GetString());
        Assert.Equal("Flexible", created.Body.GetProperty("properties").GetProperty("orchestrationMode").GetString());
        Assert.Equal("Microsoft.Compute/virtualMachineScaleSets", created.Body.GetProperty("type").GetString());
        string operation = arm.Local(created.Header("Azure-AsyncOperation")!);
        Assert.Equal("InProgress", (await arm.GetAsync(operation)).Body.GetProperty("status").GetString());

        JsonElement[] instances = await InstancesAsync(group, "web");
        Assert.Equal(3, instances.Length);
        string scaleSetId = created.Body.GetProperty("id").GetString()!;
        Assert.All(instances, vm =>
        {
            JsonElement p = vm.GetProperty("properties");
            Assert.Matches("^web_[0-9a-f]{8}$", vm.GetProperty("name").GetString());
            Assert.Equal(scaleSetId, p.GetProperty("virtualMachineScaleSet").GetProperty("id").GetString());
            Assert.Equal("TrustedLaunch", p.GetProperty("securityProfile").GetProperty("securityType").GetString());
            Assert.Equal("Standard_D2s_v3", p.GetProperty("hardwareProfile").GetProperty("vmSize").GetString());
            Assert.Equal("Delete", p.GetProperty("storageProfile").GetProperty("osDisk").GetProperty("deleteOption").GetString());
        });
        Assert.Equal(3, instances.Select(vm => vm.GetProperty("properties").GetProperty("vmId").GetString()).Distinct().Count());
        Assert.Equal(3, instances.Select(vm => vm.GetProperty("properties").GetProperty("storageProfile").GetProperty("osDisk").GetProperty("name").GetString()).Distinct().Count());

        // The host converges the three instances: each gets its own assignment (its own VMGS and vTPM on the host).
        JsonElement assignments = await arm.Host.PollAsync();
        Assert.Equal(3, assignments.GetProperty("virtualMachines").EnumerateArray().Count(a => a.GetProperty("name").GetString()!.StartsWith("web_", StringComparison.Ordinal)));
        await arm.Host.ConvergeAsync();

        Assert.Equal("Succeeded", (await arm.GetAsync(operation)).Body.GetProperty("status").GetString());
        ArmAnswer shown = await arm.GetAsync(ArmTestService.WithApi(Path(group, "web")));
        Assert.Equal("Succeeded", shown.Body.GetProperty("properties").GetProperty("provisioningState").GetString());
        Assert.Equal(3, shown.Body.GetProperty("sku").GetProperty("capacity").GetInt64());
        JsonElement listed = (await arm.GetAsync(ArmTestService.WithApi(arm.GroupPath(group) + "/providers/Microsoft.Compute/virtualMachineScaleSets"))).Body;
        Assert.Equal("web", listed.GetProperty("value").EnumerateArray().Single().GetProperty("name").GetString());
    }

    [Fact]
    public async Task Patch_Capacity_ScalesOutThenInNewestFirst_RemovedInstancesGo()
    {
        string group = await arm.CreateGroupAsync();
        await CreateConvergedAsync(group, "ss", capacity: 2);
        string[] first = [.. (await InstancesAsync(group, "ss")).Select(Name)];
        arm.Service.Clock.Advance(TimeSpan.FromSeconds(30)); // the scale-out's instance is the newest

        ArmAnswer outward = await PatchCapacityAsync(group, "ss", 3);
        Assert.True(outward.Status == HttpStatusCode.OK, outward.ToString());
        Assert.Equal("Updating", outward.Body.GetProperty("properties").GetProperty("provisioningState").GetString());
        await arm.Host.ConvergeAsync();
        Assert.Equal("Succeeded", (await arm.GetAsync(arm.Local(outward.Header("Azure-AsyncOperation")!))).Body.GetProperty("status").GetString());
        string[] three = [.. (await InstancesAsync(group, "ss")).Select(Name)];
        Assert.Equal(3, three.Length);
        string newest = three.Except(first).Single();

        ArmAnswer inward = await PatchCapacityAsync(group, "ss", 1);
        Assert.True(inward.Status == HttpStatusCode.OK, inward.ToString());
        string operation = arm.Local(inward.Header("Azure-AsyncOperation")!);
        JsonElement[] deleting = [.. (await InstancesAsync(group, "ss")).Where(vm => vm.GetProperty("properties").GetProperty("provisioningState").GetString() == "Deleting")];
        Assert.Equal(2, deleting.Length);
        Assert.Contains(newest, deleting.Select(Name));
        Assert.Equal("InProgress", (await arm.GetAsync(operation)).Body.GetProperty("status").GetString());
        await arm.Host.ConvergeAsync();

        Assert.Equal("Succeeded", (await arm.GetAsync(operation)).Body.GetProperty("status").GetString());
        // The newest went first; of the two made together, the one whose name sorts last.
        Assert.Equal([first.Min(StringComparer.OrdinalIgnoreCase)!], (await InstancesAsync(group, "ss")).Select(Name));
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, newest)))).Status);
    }

    [Fact]
    public async Task DeleteInstanceDirectly_LowersCapacity_NothingRemadeAtTheNextScale()
    {
        string group = await arm.CreateGroupAsync();
        await CreateConvergedAsync(group, "flex", capacity: 2);
        string victim = Name((await InstancesAsync(group, "flex"))[0]);

        ArmAnswer deleted = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, victim)));
        Assert.Equal(HttpStatusCode.Accepted, deleted.Status);
        await arm.Host.ConvergeAsync();
        ArmAnswer shown = await arm.GetAsync(ArmTestService.WithApi(Path(group, "flex")));
        Assert.Equal(1, shown.Body.GetProperty("sku").GetProperty("capacity").GetInt64());
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, victim)))).Status);

        // A change of the model that does not name the capacity makes no instance again.
        ArmAnswer tagged = await arm.SendAsync(HttpMethod.Patch, ArmTestService.WithApi(Path(group, "flex")), new JsonObject { ["tags"] = new JsonObject { ["k"] = "v" } });
        Assert.True(tagged.Status == HttpStatusCode.OK, tagged.ToString());
        await arm.Host.ConvergeAsync();
        Assert.Single(await InstancesAsync(group, "flex"));
    }

    [Fact]
    public async Task Sweep_CompletesTheOperation_WithoutItsMonitorBeingRead()
    {
        string group = await arm.CreateGroupAsync();
        ArmAnswer created = await PutAsync(group, "swept", Body(2));
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        await arm.Host.ConvergeAsync(); // the host reports the instances running; nobody reads the scale set or its operation

        Assert.Equal(0, await arm.Service.Service<TrustedLaunch.ControlPlane.ScaleSets.ScaleSetOperationSweep>().SweepAsync(default));
        var store = arm.Service.Service<TrustedLaunch.ControlPlane.ScaleSets.IVirtualMachineScaleSetStore>();
        var record = await store.GetAsync(new TrustedLaunch.ControlPlane.ScaleSets.ScaleSetKey(arm.SubscriptionId, group, "swept"), default);
        Assert.Null(record!.PendingOperationId);
        Assert.Equal(TrustedLaunch.ControlPlane.State.ProvisioningState.Succeeded, record.ProvisioningState);
    }

    [Fact]
    public async Task Put_Uniform_RefusedAndNothingStored()
    {
        string group = await arm.CreateGroupAsync();
        JsonObject body = Body(capacity: 2);
        body["properties"]!["orchestrationMode"] = "Uniform";

        ArmAnswer refused = await PutAsync(group, "uni", body);

        Assert.Equal((HttpStatusCode.BadRequest, "OrchestrationModeNotSupported"), (refused.Status, refused.ErrorCode));
        Assert.Equal("properties.orchestrationMode", refused.Error.GetProperty("target").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(Path(group, "uni")))).Status);
        Assert.Empty(await InstancesInGroupAsync(group));
    }

    [Fact]
    public async Task Put_ModelBreaksATrustedLaunchRule_RefusedOnceWithScaleSetTargets_NoInstance()
    {
        string group = await arm.CreateGroupAsync();
        JsonObject body = Body(capacity: 3);
        body["sku"]!["name"] = "Standard_A4_v2";

        ArmAnswer refused = await PutAsync(group, "a4", body);

        Assert.Equal((HttpStatusCode.BadRequest, "TrustedLaunchVmSizeNotSupported"), (refused.Status, refused.ErrorCode));
        Assert.Equal("sku.name", refused.Error.GetProperty("target").GetString());
        Assert.Single(refused.Error.GetProperty("details").EnumerateArray()); // judged once, not once per instance
        Assert.Empty(await InstancesInGroupAsync(group));
    }

    [Fact]
    public async Task Delete_TakesEveryInstance_ThenTheScaleSetIsGone()
    {
        string group = await arm.CreateGroupAsync();
        await CreateConvergedAsync(group, "gone", capacity: 2);

        ArmAnswer deleting = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(Path(group, "gone")));

        Assert.True(deleting.Status == HttpStatusCode.Accepted, deleting.ToString());
        Assert.All(await InstancesAsync(group, "gone"), vm => Assert.Equal("Deleting", vm.GetProperty("properties").GetProperty("provisioningState").GetString()));
        await arm.Host.ConvergeAsync();
        Assert.Equal("Succeeded", (await arm.GetAsync(arm.Local(deleting.Header("Azure-AsyncOperation")!))).Body.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(Path(group, "gone")))).Status);
        Assert.Empty(await InstancesInGroupAsync(group));
        Assert.Equal(HttpStatusCode.NoContent, (await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(Path(group, "gone")))).Status);
    }

    [Fact]
    public async Task PutVm_NamingAScaleSet_Refused()
    {
        string group = await arm.CreateGroupAsync();
        JsonObject body = ArmTestService.VmBody();
        body["properties"]!["virtualMachineScaleSet"] = new JsonObject { ["id"] = $"/subscriptions/{arm.SubscriptionId}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachineScaleSets/x" };

        ArmAnswer refused = await arm.PutVmAsync(group, "joiner", body);

        Assert.Equal((HttpStatusCode.BadRequest, "InvalidParameter"), (refused.Status, refused.ErrorCode));
        Assert.Equal("properties.virtualMachineScaleSet.id", refused.Error.GetProperty("target").GetString());
    }

    [Fact]
    public async Task Put_WhileScaling_AnotherOperationInProgress()
    {
        string group = await arm.CreateGroupAsync();
        ArmAnswer created = await PutAsync(group, "busy", Body(capacity: 1));
        Assert.Equal(HttpStatusCode.Created, created.Status);

        ArmAnswer again = await PatchCapacityAsync(group, "busy", 2);

        Assert.Equal((HttpStatusCode.Conflict, "AnotherOperationInProgress"), (again.Status, again.ErrorCode));
        await arm.Host.ConvergeAsync();
    }

    internal static JsonObject Body(long capacity) => new()
    {
        ["location"] = "westus",
        ["sku"] = new JsonObject { ["name"] = "Standard_D2s_v3", ["tier"] = "Standard", ["capacity"] = capacity },
        ["properties"] = new JsonObject
        {
            ["orchestrationMode"] = "Flexible",
            ["platformFaultDomainCount"] = 1,
            ["virtualMachineProfile"] = new JsonObject
            {
                ["osProfile"] = new JsonObject { ["computerNamePrefix"] = "web", ["adminUsername"] = "azureuser", ["adminPassword"] = "never-stored-1A!" },
                ["storageProfile"] = new JsonObject
                {
                    ["imageReference"] = new JsonObject { ["publisher"] = "Debian", ["offer"] = "debian-12", ["sku"] = ArmTestService.Gen2Sku, ["version"] = "latest" },
                    ["osDisk"] = new JsonObject { ["createOption"] = "FromImage" },
                },
                ["securityProfile"] = ArmTestService.TrustedLaunch(),
            },
        },
    };

    private static string Name(JsonElement vm) => vm.GetProperty("name").GetString()!;

    private string Path(string group, string name) => $"{arm.GroupPath(group)}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}";

    private Task<ArmAnswer> PutAsync(string group, string name, JsonObject body) =>
        arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(Path(group, name)), body);

    private Task<ArmAnswer> PatchCapacityAsync(string group, string name, long capacity) =>
        arm.SendAsync(HttpMethod.Patch, ArmTestService.WithApi(Path(group, name)), new JsonObject { ["sku"] = new JsonObject { ["capacity"] = capacity } });

    private async Task CreateConvergedAsync(string group, string name, long capacity)
    {
        ArmAnswer created = await PutAsync(group, name, Body(capacity));
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        await arm.Host.ConvergeAsync();
        ArmAnswer shown = await arm.GetAsync(ArmTestService.WithApi(Path(group, name)));
        Assert.Equal("Succeeded", shown.Body.GetProperty("properties").GetProperty("provisioningState").GetString());
    }

    private async Task<JsonElement[]> InstancesAsync(string group, string name)
    {
        ArmAnswer listed = await arm.GetAsync(ArmTestService.WithApi(Path(group, name) + "/virtualMachines"));
        Assert.True(listed.Status == HttpStatusCode.OK, listed.ToString());
        return [.. listed.Body.GetProperty("value").EnumerateArray()];
    }

    private async Task<JsonElement[]> InstancesInGroupAsync(string group) =>
        [.. (await arm.GetAsync(ArmTestService.WithApi(arm.GroupPath(group) + "/providers/Microsoft.Compute/virtualMachines"))).Body.GetProperty("value").EnumerateArray()];
}
