using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// Microsoft.Compute/disks through the real HTTP API and the host contract (a <see cref="FakeHost"/> converges): every VM's OS disk
/// is a disk resource, attached while its VM exists; deleteOption Detach leaves it Unattached on the host, Delete removes it; a new VM
/// attaches an Unattached disk on its host; Azure's refusals; DELETE of an Unattached disk through its host.
/// </summary>
public sealed class DiskApiTests(HostedArmTestService arm) : IClassFixture<HostedArmTestService>
{
    private const string DiskApi = "2024-03-02";

    private static JsonElement Properties(JsonElement resource) => resource.GetProperty("properties");

    private async Task<JsonElement> GetDiskAsync(string diskId) => (await arm.GetAsync(ArmTestService.WithApi(diskId, DiskApi))).Body;

    private static string OsDiskId(JsonElement vm) =>
        Properties(vm).GetProperty("storageProfile").GetProperty("osDisk").GetProperty("managedDisk").GetProperty("id").GetString()!;

    private async Task DeleteVmAsync(string group, string vm)
    {
        ArmAnswer accepted = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, vm)));
        Assert.True(accepted.Status == HttpStatusCode.Accepted, accepted.ToString());
        await arm.Host.ConvergeAsync();
    }

    private static JsonObject AttachBody(string diskId, JsonObject? security = null, string deleteOption = "Delete")
    {
        JsonObject body = ArmTestService.VmBody();
        JsonObject storage = body["properties"]!["storageProfile"]!.AsObject();
        storage.Remove("imageReference");
        storage["osDisk"] = new JsonObject { ["createOption"] = "Attach", ["managedDisk"] = new JsonObject { ["id"] = diskId }, ["deleteOption"] = deleteOption };
        if (security is not null)
            body["properties"]!["securityProfile"] = security;
        return body;
    }

    /// <summary>A TL VM made and deleted with deleteOption Detach: answers its (now Unattached) disk's id and the VM's vmId.</summary>
    private async Task<(string DiskId, string VmId)> DetachedDiskAsync(string group, string vm)
    {
        JsonObject body = ArmTestService.VmBody();
        body["properties"]!["storageProfile"]!["osDisk"]!["deleteOption"] = "Detach";
        JsonElement created = await arm.CreateRunningAsync(group, vm, body);
        await DeleteVmAsync(group, vm);
        return (OsDiskId(created), Properties(created).GetProperty("vmId").GetString()!);
    }

    [Fact]
    public async Task EveryVmsOsDisk_IsADiskResource_AttachedAndManagedByIt_AndItsDeleteIsRefused()
    {
        string group = await arm.CreateGroupAsync();
        JsonElement vm = await arm.CreateRunningAsync(group, "vm1");
        string vmId = Properties(vm).GetProperty("vmId").GetString()!;
        string diskId = OsDiskId(vm);

        JsonElement disk = await GetDiskAsync(diskId);
        JsonElement listed = (await arm.GetAsync(ArmTestService.WithApi($"{arm.GroupPath(group)}/providers/Microsoft.Compute/disks", DiskApi))).Body;
        JsonElement all = (await arm.GetAsync(ArmTestService.WithApi($"/subscriptions/{arm.SubscriptionId}/providers/Microsoft.Compute/disks", DiskApi))).Body;
        ArmAnswer refused = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(diskId, DiskApi));

        Assert.Equal($"vm1_OsDisk_1_{Guid.Parse(vmId):N}", disk.GetProperty("name").GetString());
        Assert.Equal("Microsoft.Compute/disks", disk.GetProperty("type").GetString());
        Assert.Equal(vm.GetProperty("id").GetString(), disk.GetProperty("managedBy").GetString());
        Assert.Equal("Attached", Properties(disk).GetProperty("diskState").GetString());
        Assert.Equal("TrustedLaunch", Properties(disk).GetProperty("securityProfile").GetProperty("securityType").GetString());
        Assert.Equal("V2", Properties(disk).GetProperty("hyperVGeneration").GetString());
        Assert.Equal("Linux", Properties(disk).GetProperty("osType").GetString());
        Assert.Equal("Succeeded", Properties(disk).GetProperty("provisioningState").GetString());
        Assert.Equal("FromImage", Properties(disk).GetProperty("creationData").GetProperty("createOption").GetString());
        Assert.Contains("/Publishers/", Properties(disk).GetProperty("creationData").GetProperty("imageReference").GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.True(Properties(disk).TryGetProperty("timeCreated", out _));
        Assert.Equal("host1", Properties(disk).GetProperty("trustedLaunchDisk").GetProperty("hostName").GetString());
        Assert.Equal(disk.GetProperty("id").GetString(), Assert.Single(listed.GetProperty("value").EnumerateArray()).GetProperty("id").GetString());
        Assert.Contains(all.GetProperty("value").EnumerateArray(), d => d.GetProperty("id").GetString() == diskId);
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.Equal("OperationNotAllowed", refused.ErrorCode);
        Assert.Equal($"Disk {disk.GetProperty("name").GetString()} is attached to VM {vm.GetProperty("id").GetString()}.", refused.Error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task VmDeleted_DetachLeavesTheDiskUnattachedOnItsHost_DeleteRemovesIt()
    {
        string group = await arm.CreateGroupAsync();
        (string kept, string vmId) = await DetachedDiskAsync(group, "keep1");
        JsonObject deleting = ArmTestService.VmBody();
        deleting["properties"]!["storageProfile"]!["osDisk"] = new JsonObject { ["deleteOption"] = "Delete" };
        string gone = OsDiskId(await arm.CreateRunningAsync(group, "gone1", deleting));
        await DeleteVmAsync(group, "gone1");

        JsonElement disk = await GetDiskAsync(kept);
        JsonElement assignments = await arm.Host.PollAsync();

        Assert.Equal("Unattached", Properties(disk).GetProperty("diskState").GetString());
        Assert.False(disk.TryGetProperty("managedBy", out _));
        Assert.Equal("host1", Properties(disk).GetProperty("trustedLaunchDisk").GetProperty("hostName").GetString());
        Assert.Equal(vmId, Properties(disk).GetProperty("trustedLaunchDisk").GetProperty("lastVmId").GetString());
        JsonElement assignment = assignments.GetProperty("disks").EnumerateArray().Single(d => d.GetProperty("resourceId").GetString() == kept);
        Assert.Equal("Present", assignment.GetProperty("desiredState").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(gone, DiskApi))).Status);
    }

    [Fact]
    public async Task NewVm_AttachesAnUnattachedDisk_OnItsHost_InPlace_AndTheDiskIsAttachedToIt()
    {
        string group = await arm.CreateGroupAsync();
        (string diskId, string oldVmId) = await DetachedDiskAsync(group, "first1");
        string uniqueId = Properties(await GetDiskAsync(diskId)).GetProperty("uniqueId").GetString()!;

        ArmAnswer created = await arm.PutVmAsync(group, "second1", AttachBody(diskId));
        JsonElement spec = FakeHost.Assignment(await arm.Host.PollAsync(), "second1").GetProperty("spec");
        await arm.Host.ConvergeAsync();
        JsonElement disk = await GetDiskAsync(diskId);
        JsonElement vm = (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "second1")))).Body;

        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        Assert.True(spec.GetProperty("attachDetachedDisk").GetBoolean());
        Assert.Equal(uniqueId, spec.GetProperty("osDiskId").GetString());
        Assert.Equal(diskId.Split('/')[^1], spec.GetProperty("osDiskName").GetString());
        Assert.Equal("TrustedLaunch", spec.GetProperty("securityType").GetString());
        Assert.NotEqual(oldVmId, Properties(vm).GetProperty("vmId").GetString()); // a new VM resource, a new vmId
        Assert.Equal("Succeeded", Properties(vm).GetProperty("provisioningState").GetString());
        Assert.Equal(diskId, OsDiskId(vm));
        Assert.Equal("Attached", Properties(disk).GetProperty("diskState").GetString());
        Assert.Equal(vm.GetProperty("id").GetString(), disk.GetProperty("managedBy").GetString());
        Assert.Equal(uniqueId, Properties(disk).GetProperty("uniqueId").GetString());

        // deleteOption Delete this time: the disk goes with the VM.
        await DeleteVmAsync(group, "second1");
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(diskId, DiskApi))).Status);
    }

    [Fact]
    public async Task Attach_AlreadyAttached_SecurityMismatch_Missing_AreRefused_AndNothingIsMade()
    {
        string group = await arm.CreateGroupAsync();
        (string diskId, _) = await DetachedDiskAsync(group, "src1");
        JsonElement running = await arm.CreateRunningAsync(group, "run1");

        ArmAnswer standard = await arm.PutVmAsync(group, "c1", AttachBody(diskId, new JsonObject { ["securityType"] = "Standard" }));
        ArmAnswer attached = await arm.PutVmAsync(group, "c2", AttachBody(OsDiskId(running)));
        ArmAnswer missing = await arm.PutVmAsync(group, "c3", AttachBody($"{arm.GroupPath(group)}/providers/Microsoft.Compute/disks/nosuch"));
        ArmAnswer first = await arm.PutVmAsync(group, "c4", AttachBody(diskId));
        ArmAnswer second = await arm.PutVmAsync(group, "c5", AttachBody(diskId));

        Assert.Equal(HttpStatusCode.BadRequest, standard.Status);
        Assert.Equal("Security type of VM is not compatible with the security type of attached OS Disk.", standard.Error.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.Conflict, attached.Status);
        Assert.Equal("OperationNotAllowed", attached.ErrorCode);
        Assert.Equal($"Disk {OsDiskId(running).Split('/')[^1]} is attached to VM {running.GetProperty("id").GetString()}.", attached.Error.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.Conflict, second.Status);
        Assert.Equal("OperationNotAllowed", second.ErrorCode);
        foreach (string vm in new[] { "c1", "c2", "c3", "c5" })
            Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, vm)))).Status);
    }

    [Fact]
    public async Task NewVm_WhoseOsDiskNameIsTaken_AzuresConflict()
    {
        string group = await arm.CreateGroupAsync();
        (string diskId, _) = await DetachedDiskAsync(group, "src1");
        JsonObject body = ArmTestService.VmBody();
        body["properties"]!["storageProfile"]!["osDisk"] = new JsonObject { ["name"] = diskId.Split('/')[^1] };

        ArmAnswer refused = await arm.PutVmAsync(group, "again1", body);

        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.Equal("ConflictingUserInput", refused.ErrorCode);
        Assert.EndsWith("Only CreateOption.Attach is supported.", refused.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteUnattached_202_TheHostRemovesTheFiles_Then404()
    {
        string group = await arm.CreateGroupAsync();
        (string diskId, _) = await DetachedDiskAsync(group, "src1");
        string uniqueId = Properties(await GetDiskAsync(diskId)).GetProperty("uniqueId").GetString()!;

        ArmAnswer accepted = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(diskId, DiskApi));
        JsonElement assignment = (await arm.Host.PollAsync()).GetProperty("disks").EnumerateArray().Single(d => d.GetProperty("diskId").GetString() == uniqueId);
        ArmAnswer stillThere = await arm.GetAsync(ArmTestService.WithApi(diskId, DiskApi));
        ArmAnswer reported = await arm.SendAsync(HttpMethod.Post, $"/v1/hosts/{arm.Host.Name}/reports",
            new JsonObject { ["disks"] = new JsonArray(new JsonObject { ["diskId"] = uniqueId, ["state"] = "Deleted" }) });
        ArmAnswer gone = await arm.GetAsync(ArmTestService.WithApi(diskId, DiskApi));

        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);
        Assert.Equal("Deleted", assignment.GetProperty("desiredState").GetString());
        Assert.Equal("Deleting", Properties(stillThere.Body).GetProperty("provisioningState").GetString());
        Assert.Equal(HttpStatusCode.OK, reported.Status);
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
        Assert.Equal("Succeeded", (await arm.GetAsync(arm.Local(accepted.Header("Azure-AsyncOperation")!))).Body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task GroupDeleted_WhileItsDetachVmIsBeingDeleted_TheHostDetaches_AndTheDiskIsDeletedThroughThatHost_NoFileWithoutARow()
    {
        // The race: the VM's own DELETE (deleteOption Detach) reaches its host, then the group's DELETE starts before the host reports.
        string group = await arm.CreateGroupAsync();
        JsonObject body = ArmTestService.VmBody();
        body["properties"]!["storageProfile"]!["osDisk"]!["deleteOption"] = "Detach";
        string diskId = OsDiskId(await arm.CreateRunningAsync(group, "race1", body));
        string uniqueId = Properties(await GetDiskAsync(diskId)).GetProperty("uniqueId").GetString()!;
        Assert.Equal(HttpStatusCode.Accepted, (await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, "race1")))).Status);
        JsonElement told = FakeHost.Assignment(await arm.Host.PollAsync(), "race1"); // the host acts on this: Deleted, Detach

        ArmAnswer groupDeleting = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.GroupPath(group), "2021-04-01"));
        JsonElement toldAgain = FakeHost.Assignment(await arm.Host.PollAsync(), "race1");
        Assert.Equal(HttpStatusCode.OK, (await arm.Host.ReportAsync(FakeHost.Report(told, deleted: true))).Status); // files detached
        JsonElement disk = await GetDiskAsync(diskId);
        JsonElement kept = (await arm.Host.PollAsync()).GetProperty("disks").EnumerateArray().Single(d => d.GetProperty("diskId").GetString() == uniqueId);
        ArmAnswer groupWhileDiskStays = await arm.GetAsync(ArmTestService.WithApi(arm.GroupPath(group), "2021-04-01"));
        ArmAnswer reported = await arm.SendAsync(HttpMethod.Post, $"/v1/hosts/{arm.Host.Name}/reports",
            new JsonObject { ["disks"] = new JsonArray(new JsonObject { ["diskId"] = uniqueId, ["state"] = "Deleted" }) });

        Assert.Equal(HttpStatusCode.Accepted, groupDeleting.Status);
        Assert.Equal(("Deleted", "Detach"), (told.GetProperty("desiredPowerState").GetString(), told.GetProperty("spec").GetProperty("osDiskDeleteOption").GetString()));
        Assert.Equal("Detach", toldAgain.GetProperty("spec").GetProperty("osDiskDeleteOption").GetString()); // fixed when the VM went Deleting
        Assert.Equal(("Unattached", "Deleting"), (Properties(disk).GetProperty("diskState").GetString(), Properties(disk).GetProperty("provisioningState").GetString()));
        Assert.Equal("Deleted", kept.GetProperty("desiredState").GetString()); // its host is told to remove the detached files
        Assert.Equal(HttpStatusCode.OK, groupWhileDiskStays.Status);
        Assert.Equal(HttpStatusCode.OK, reported.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(diskId, DiskApi))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(arm.GroupPath(group), "2021-04-01"))).Status);
    }

    [Fact]
    public async Task GroupDeleted_BeforeItsDetachVm_TheHostIsToldDelete_AndNoRowStays()
    {
        string group = await arm.CreateGroupAsync();
        JsonObject body = ArmTestService.VmBody();
        body["properties"]!["storageProfile"]!["osDisk"]!["deleteOption"] = "Detach";
        string diskId = OsDiskId(await arm.CreateRunningAsync(group, "race2", body));

        ArmAnswer groupDeleting = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.GroupPath(group), "2021-04-01"));
        JsonElement told = FakeHost.Assignment(await arm.Host.PollAsync(), "race2");
        ArmAnswer ownDelete = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, "race2")));
        JsonElement toldAgain = FakeHost.Assignment(await arm.Host.PollAsync(), "race2");
        await arm.Host.ReportAsync(FakeHost.Report(told, deleted: true));

        Assert.Equal(HttpStatusCode.Accepted, groupDeleting.Status);
        Assert.Equal(HttpStatusCode.Accepted, ownDelete.Status); // the deletion already under way
        Assert.Equal(("Deleted", "Delete"), (told.GetProperty("desiredPowerState").GetString(), told.GetProperty("spec").GetProperty("osDiskDeleteOption").GetString()));
        Assert.Equal("Delete", toldAgain.GetProperty("spec").GetProperty("osDiskDeleteOption").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(diskId, DiskApi))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(arm.GroupPath(group), "2021-04-01"))).Status);
    }
}
