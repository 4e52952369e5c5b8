using System.Net;
using System.Text.Json;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>First-fit placement by free capacity; VMs created before any host wait for one; a VM stays on its host.</summary>
public sealed class PlacementTests(ArmTestService arm) : IClassFixture<ArmTestService>
{
    [Fact]
    public async Task Placement_WaitForAHostFirstFitAndDeallocateFreesRoom()
    {
        string group = await arm.CreateGroupAsync();
        // No host yet: accepted, waiting, the operation in progress.
        ArmAnswer waiting = await arm.PutVmAsync(group, "w1", ArmTestService.VmBody());
        ArmAnswer tooBig = await arm.PutVmAsync(group, "w2", ArmTestService.VmBody(size: "Standard_D4s_v3"));
        Assert.Equal(HttpStatusCode.Created, waiting.Status);
        Assert.Equal(HttpStatusCode.Created, tooBig.Status);

        // A 2-vCPU host registers: the first VM fits, the second never can and fails as Azure's allocation does.
        var small = new FakeHost(arm, "small1");
        JsonElement registered = await small.RegisterAsync(vCpus: 2, memoryInMB: 8192);
        JsonElement assignments = await small.PollAsync();
        Assert.Equal(["w1"], assignments.GetProperty("virtualMachines").EnumerateArray().Select(v => v.GetProperty("name").GetString()));
        Assert.Equal(2, (await arm.GetAsync("/v1/hosts")).Body[0].GetProperty("allocatedVCpus").GetInt32());
        Assert.Equal("small1", registered.GetProperty("name").GetString());
        ArmAnswer failed = await arm.GetAsync(arm.Local(tooBig.Header("Azure-AsyncOperation")!));
        Assert.Equal("Failed", failed.Body.GetProperty("status").GetString());
        Assert.Equal("AllocationFailed", failed.Body.GetProperty("error").GetProperty("code").GetString());
        ArmAnswer failedVm = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "w2")));
        Assert.Equal("Failed", failedVm.Body.GetProperty("properties").GetProperty("provisioningState").GetString());
        await small.ConvergeAsync();

        // The host is full: a new VM is refused at once and leaves nothing behind.
        ArmAnswer full = await arm.PutVmAsync(group, "w3", ArmTestService.VmBody(size: "Standard_B2s"));
        Assert.Equal((HttpStatusCode.Conflict, "AllocationFailed"), (full.Status, full.ErrorCode));
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "w3")))).Status);

        // Deallocating frees the room; the VM stays on its host.
        Assert.Equal(HttpStatusCode.Accepted, (await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "w1") + "/deallocate"))).Status);
        await small.ConvergeAsync();
        ArmAnswer fits = await arm.PutVmAsync(group, "w3", ArmTestService.VmBody(size: "Standard_B2s"));
        Assert.Equal(HttpStatusCode.Created, fits.Status);
        assignments = await small.PollAsync();
        Assert.Equal(["w1", "w3"], assignments.GetProperty("virtualMachines").EnumerateArray().Select(v => v.GetProperty("name").GetString()).Order());

        // Starting the deallocated VM now needs room its host no longer has.
        ArmAnswer start = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "w1") + "/start"));
        Assert.Equal((HttpStatusCode.Conflict, "AllocationFailed"), (start.Status, start.ErrorCode));
    }
}
