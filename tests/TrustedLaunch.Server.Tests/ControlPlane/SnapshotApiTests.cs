using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// Microsoft.Compute/snapshots through the real HTTP API and the host contract (a <see cref="FakeHost"/> takes and removes
/// the files): shapes, validation, the operation, a VM attached from a snapshot (its host, its security type), deletion.
/// </summary>
public sealed class SnapshotApiTests(HostedArmTestService arm) : IClassFixture<HostedArmTestService>
{
    private const string DiskApi = "2024-03-02";

    private string SnapshotPath(string group, string name) => $"{arm.GroupPath(group)}/providers/Microsoft.Compute/snapshots/{name}";

    private Task<ArmAnswer> PutSnapshotAsync(string group, string name, JsonObject body) =>
        arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(SnapshotPath(group, name), DiskApi), body);

    private JsonObject SnapshotBody(string group, string vm, string createOption = "Copy") => new()
    {
        ["location"] = "westus",
        ["properties"] = new JsonObject
        {
            ["creationData"] = new JsonObject { ["createOption"] = createOption, ["sourceResourceId"] = arm.VmPath(group, vm) },
        },
    };

    private static JsonElement Only(JsonElement assignments, string snapshotId) =>
        assignments.GetProperty("snapshots").EnumerateArray().Single(s => s.GetProperty("snapshotId").GetString() == snapshotId);

    private async Task<ArmAnswer> ReportSnapshotAsync(string snapshotId, string state, JsonObject? error = null, long? bytes = null, string? vmgs = null) =>
        await arm.SendAsync(HttpMethod.Post, $"/v1/hosts/{arm.Host.Name}/reports", new JsonObject
        {
            ["snapshots"] = new JsonArray(new JsonObject
            {
                ["snapshotId"] = snapshotId, ["state"] = state, ["error"] = error, ["diskSizeBytes"] = bytes, ["vmgsSha256"] = vmgs,
            }),
        });

    /// <summary>A stopped TL VM and a Succeeded snapshot of it; answers the snapshot as GET shows it.</summary>
    private async Task<JsonElement> SnapshotOfStoppedVmAsync(string group, string vm, string snapshot)
    {
        await arm.CreateRunningAsync(group, vm);
        await arm.ActAsync(group, vm, "powerOff");
        ArmAnswer created = await PutSnapshotAsync(group, snapshot, SnapshotBody(group, vm));
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        string id = created.Body.GetProperty("properties").GetProperty("uniqueId").GetString()!;
        await arm.Host.PollAsync();
        Assert.Equal(HttpStatusCode.OK, (await ReportSnapshotAsync(id, "Succeeded", bytes: 196_624, vmgs: new string('a', 64))).Status);
        return (await arm.GetAsync(ArmTestService.WithApi(SnapshotPath(group, snapshot), DiskApi))).Body;
    }

    [Fact]
    public async Task Put_OfAStoppedVm_201CreatingThenTheHostTakesItAndItSucceeds()
    {
        string group = await arm.CreateGroupAsync();
        JsonElement vm = await arm.CreateRunningAsync(group, "src1");
        await arm.ActAsync(group, "src1", "powerOff");

        ArmAnswer created = await PutSnapshotAsync(group, "snap1", SnapshotBody(group, "src1"));
        JsonElement properties = created.Body.GetProperty("properties");
        string id = properties.GetProperty("uniqueId").GetString()!;
        string monitor = arm.Local(created.Header("Azure-AsyncOperation")!);
        JsonElement assignment = Only(await arm.Host.PollAsync(), id);
        ArmAnswer reported = await ReportSnapshotAsync(id, "Succeeded", bytes: 196_624, vmgs: new string('b', 64));
        JsonElement shown = (await arm.GetAsync(ArmTestService.WithApi(SnapshotPath(group, "snap1"), DiskApi))).Body;

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("Microsoft.Compute/snapshots", created.Body.GetProperty("type").GetString());
        Assert.Equal("Creating", properties.GetProperty("provisioningState").GetString());
        Assert.Equal("Copy", properties.GetProperty("creationData").GetProperty("createOption").GetString());
        Assert.Equal("TrustedLaunch", properties.GetProperty("securityProfile").GetProperty("securityType").GetString());
        Assert.Equal("V2", properties.GetProperty("hyperVGeneration").GetString());
        Assert.True(properties.TryGetProperty("timeCreated", out _));
        Assert.Equal(vm.GetProperty("properties").GetProperty("vmId").GetString(), assignment.GetProperty("sourceVmId").GetString());
        Assert.Equal("Present", assignment.GetProperty("desiredState").GetString());
        Assert.Equal(HttpStatusCode.OK, reported.Status);
        Assert.Equal("Succeeded", shown.GetProperty("properties").GetProperty("provisioningState").GetString());
        Assert.Equal(196_624, shown.GetProperty("properties").GetProperty("diskSizeBytes").GetInt64());
        Assert.True(shown.GetProperty("properties").GetProperty("trustedLaunchSnapshot").GetProperty("guestStateIncluded").GetBoolean());
        Assert.Equal("host1", shown.GetProperty("properties").GetProperty("trustedLaunchSnapshot").GetProperty("hostName").GetString());
        Assert.Equal("Succeeded", (await arm.GetAsync(monitor)).Body.GetProperty("status").GetString());
        Assert.Equal("\"2\"", (await arm.GetAsync(ArmTestService.WithApi(SnapshotPath(group, "snap1"), DiskApi))).Headers.ETag?.Tag);
    }

    [Fact]
    public async Task Put_OfARunningVm_201Creating_TheHostIsAskedAndTheVmStaysRunning()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "run1");

        ArmAnswer created = await PutSnapshotAsync(group, "snap1", SnapshotBody(group, "run1"));
        string id = created.Body.GetProperty("properties").GetProperty("uniqueId").GetString()!;
        JsonElement assignments = await arm.Host.PollAsync();
        JsonElement vm = assignments.GetProperty("virtualMachines").EnumerateArray()
            .Single(v => string.Equals(v.GetProperty("resourceId").GetString(), arm.VmPath(group, "run1"), StringComparison.OrdinalIgnoreCase));

        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        Assert.Equal("Present", Only(assignments, id).GetProperty("desiredState").GetString());
        Assert.Equal("Running", vm.GetProperty("desiredPowerState").GetString()); // a snapshot pauses the guest on its host, never stops it
    }

    [Fact]
    public async Task Put_BadShapes_400WithEveryViolation()
    {
        string group = await arm.CreateGroupAsync();
        var body = new JsonObject
        {
            ["properties"] = new JsonObject { ["creationData"] = new JsonObject { ["createOption"] = "Import" }, ["incremental"] = true },
        };

        ArmAnswer refused = await PutSnapshotAsync(group, "snap1", body);
        ArmAnswer badName = await PutSnapshotAsync(group, "-bad", SnapshotBody(group, "x"));
        ArmAnswer noVm = await PutSnapshotAsync(group, "snap2", SnapshotBody(group, "missing"));
        ArmAnswer computeApi = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(SnapshotPath(group, "snap3")), SnapshotBody(group, "x"));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        string[] targets = [.. refused.Error.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("target").GetString()!)];
        Assert.Equal(["location", "properties.creationData.createOption", "properties.creationData.sourceResourceId", "properties.incremental"], targets);
        Assert.Equal("InvalidResourceName", badName.ErrorCode);
        Assert.Equal(HttpStatusCode.NotFound, noVm.Status);
        Assert.Equal("ResourceNotFound", noVm.ErrorCode);
        Assert.Equal(HttpStatusCode.BadRequest, computeApi.Status); // the disk RP's api-versions, not the VMs'
    }

    [Fact]
    public async Task HostFails_TheSnapshotIsFailedWithTheHostsError()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "src1");
        await arm.ActAsync(group, "src1", "deallocate");
        ArmAnswer created = await PutSnapshotAsync(group, "snap1", SnapshotBody(group, "src1"));
        string id = created.Body.GetProperty("properties").GetProperty("uniqueId").GetString()!;

        await ReportSnapshotAsync(id, "Failed", new JsonObject { ["code"] = "SnapshotIntegrityFailed", ["message"] = "does not open" });
        JsonElement operation = (await arm.GetAsync(arm.Local(created.Header("Azure-AsyncOperation")!))).Body;
        JsonElement shown = (await arm.GetAsync(ArmTestService.WithApi(SnapshotPath(group, "snap1"), DiskApi))).Body;
        JsonElement assignments = await arm.Host.PollAsync();

        Assert.Equal("Failed", operation.GetProperty("status").GetString());
        Assert.Equal("SnapshotIntegrityFailed", operation.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("Failed", shown.GetProperty("properties").GetProperty("provisioningState").GetString());
        Assert.DoesNotContain(assignments.GetProperty("snapshots").EnumerateArray(), s => s.GetProperty("snapshotId").GetString() == id);
    }

    [Fact]
    public async Task AttachedVm_PlacedOnTheSnapshotsHost_WithItsImageAndSecurityType()
    {
        string group = await arm.CreateGroupAsync();
        JsonElement snapshot = await SnapshotOfStoppedVmAsync(group, "src1", "snap1");
        JsonObject body = ArmTestService.VmBody();
        JsonObject storage = body["properties"]!["storageProfile"]!.AsObject();
        storage.Remove("imageReference");
        storage["osDisk"] = new JsonObject
        {
            ["createOption"] = "Attach", ["managedDisk"] = new JsonObject { ["id"] = snapshot.GetProperty("id").GetString() }, ["deleteOption"] = "Delete",
        };

        ArmAnswer created = await arm.PutVmAsync(group, "copy1", body);
        JsonElement assignment = FakeHost.Assignment(await arm.Host.PollAsync(), "copy1");
        JsonElement spec = assignment.GetProperty("spec");

        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        JsonElement properties = created.Body.GetProperty("properties");
        Assert.Equal("TrustedLaunch", properties.GetProperty("securityProfile").GetProperty("securityType").GetString());
        Assert.Equal("Attach", properties.GetProperty("storageProfile").GetProperty("osDisk").GetProperty("createOption").GetString());
        Assert.Equal(snapshot.GetProperty("properties").GetProperty("uniqueId").GetString(), spec.GetProperty("sourceSnapshotId").GetString());
        Assert.Equal("TrustedLaunch", spec.GetProperty("securityType").GetString());
        Assert.Equal("/var/lib/trustedlaunch/images/debian-12-12-gen2-1.1.0.qcow2", spec.GetProperty("imagePath").GetString());
        Assert.NotEqual(snapshot.GetProperty("properties").GetProperty("trustedLaunchSnapshot").GetProperty("sourceVmId").GetString(),
            properties.GetProperty("vmId").GetString()); // a new identity
    }

    [Fact]
    public async Task AttachedVm_ItsModelNamesItsOwnNewDisk_WhoseSourceIsTheSnapshot_AndAPutAgainKeepsIt()
    {
        string group = await arm.CreateGroupAsync();
        JsonElement snapshot = await SnapshotOfStoppedVmAsync(group, "ownsrc1", "ownsnap1");
        string snapshotId = snapshot.GetProperty("id").GetString()!;
        JsonObject body = ArmTestService.VmBody();
        JsonObject storage = body["properties"]!["storageProfile"]!.AsObject();
        storage.Remove("imageReference");
        storage["osDisk"] = new JsonObject { ["createOption"] = "Attach", ["managedDisk"] = new JsonObject { ["id"] = snapshotId }, ["deleteOption"] = "Detach" };

        ArmAnswer created = await arm.PutVmAsync(group, "owncopy1", body);
        JsonElement spec = FakeHost.Assignment(await arm.Host.PollAsync(), "owncopy1").GetProperty("spec");
        await arm.Host.ConvergeAsync();
        string vmId = created.Body.GetProperty("properties").GetProperty("vmId").GetString()!;
        string diskId = $"{arm.GroupPath(group)}/providers/Microsoft.Compute/disks/owncopy1_OsDisk_1_{Guid.Parse(vmId):N}";
        JsonElement disk = (await arm.GetAsync(ArmTestService.WithApi(diskId, DiskApi))).Body;
        ArmAnswer again = await arm.PutVmAsync(group, "owncopy1", body); // the same body, naming the snapshot, sent again
        JsonElement specAgain = FakeHost.Assignment(await arm.Host.PollAsync(), "owncopy1").GetProperty("spec");

        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        Assert.Equal(diskId, created.Body.GetProperty("properties").GetProperty("storageProfile").GetProperty("osDisk").GetProperty("managedDisk").GetProperty("id").GetString());
        Assert.Equal(snapshot.GetProperty("properties").GetProperty("uniqueId").GetString(), spec.GetProperty("sourceSnapshotId").GetString());
        Assert.False(spec.GetProperty("attachDetachedDisk").GetBoolean()); // a new disk, not one another VM left
        Assert.Equal(vmId, spec.GetProperty("osDiskId").GetString());
        Assert.Equal("Copy", disk.GetProperty("properties").GetProperty("creationData").GetProperty("createOption").GetString());
        Assert.Equal(snapshotId, disk.GetProperty("properties").GetProperty("creationData").GetProperty("sourceResourceId").GetString());
        Assert.Equal(created.Body.GetProperty("id").GetString(), disk.GetProperty("managedBy").GetString());
        Assert.True(again.Status == HttpStatusCode.OK, again.ToString());
        Assert.Equal(diskId, again.Body.GetProperty("properties").GetProperty("storageProfile").GetProperty("osDisk").GetProperty("managedDisk").GetProperty("id").GetString());
        Assert.Equal(spec.GetProperty("sourceSnapshotId").GetString(), specAgain.GetProperty("sourceSnapshotId").GetString());

        // Deleted with Detach, the disk stays Unattached with its source; a new VM attaches it in place, not from the snapshot.
        Assert.Equal(HttpStatusCode.Accepted, (await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, "owncopy1")))).Status);
        await arm.Host.ConvergeAsync();
        JsonObject attach = ArmTestService.VmBody();
        JsonObject attachStorage = attach["properties"]!["storageProfile"]!.AsObject();
        attachStorage.Remove("imageReference");
        attachStorage["osDisk"] = new JsonObject { ["createOption"] = "Attach", ["managedDisk"] = new JsonObject { ["id"] = diskId }, ["deleteOption"] = "Delete" };
        ArmAnswer second = await arm.PutVmAsync(group, "owncopy2", attach);
        JsonElement secondSpec = FakeHost.Assignment(await arm.Host.PollAsync(), "owncopy2").GetProperty("spec");

        Assert.True(second.Status == HttpStatusCode.Created, second.ToString());
        Assert.True(secondSpec.GetProperty("attachDetachedDisk").GetBoolean());
        Assert.Equal(JsonValueKind.Null, secondSpec.TryGetProperty("sourceSnapshotId", out JsonElement none) ? none.ValueKind : JsonValueKind.Null);
        Assert.Equal(vmId, secondSpec.GetProperty("osDiskId").GetString());
    }

    [Fact]
    public async Task AttachedVm_SecurityTypeMismatch_AzuresMessage_AndOtherRefusals()
    {
        string group = await arm.CreateGroupAsync();
        JsonElement snapshot = await SnapshotOfStoppedVmAsync(group, "src1", "snap1");
        JsonObject Attach(string id, JsonObject? security = null, bool withImage = false)
        {
            JsonObject body = ArmTestService.VmBody();
            JsonObject storage = body["properties"]!["storageProfile"]!.AsObject();
            if (!withImage)
                storage.Remove("imageReference");
            storage["osDisk"] = new JsonObject { ["createOption"] = "Attach", ["managedDisk"] = new JsonObject { ["id"] = id } };
            if (security is not null)
                body["properties"]!["securityProfile"] = security;
            return body;
        }

        string id = snapshot.GetProperty("id").GetString()!;
        ArmAnswer standard = await arm.PutVmAsync(group, "c1", Attach(id, new JsonObject { ["securityType"] = "Standard" }));
        ArmAnswer missing = await arm.PutVmAsync(group, "c2", Attach(SnapshotPath(group, "nosuch")));
        ArmAnswer noId = await arm.PutVmAsync(group, "c3", Attach(arm.VmPath(group, "src1")));
        ArmAnswer image = await arm.PutVmAsync(group, "c4", Attach(id, withImage: true));

        Assert.Equal(HttpStatusCode.BadRequest, standard.Status);
        Assert.Equal("Security type of VM is not compatible with the security type of attached OS Disk.", standard.Error.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal(HttpStatusCode.BadRequest, noId.Status);
        Assert.Equal("properties.storageProfile.osDisk.managedDisk.id", noId.Error.GetProperty("target").GetString());
        Assert.Equal("properties.storageProfile.imageReference", image.Error.GetProperty("target").GetString());
        foreach (string vm in new[] { "c1", "c2", "c3", "c4" })
            Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, vm)))).Status);
    }

    [Fact]
    public async Task Delete_202_HostRemovesTheFiles_Then404_AndListShowsIt()
    {
        string group = await arm.CreateGroupAsync();
        JsonElement snapshot = await SnapshotOfStoppedVmAsync(group, "src1", "snap1");
        string id = snapshot.GetProperty("properties").GetProperty("uniqueId").GetString()!;
        JsonElement listed = (await arm.GetAsync(ArmTestService.WithApi($"{arm.GroupPath(group)}/providers/Microsoft.Compute/snapshots", DiskApi))).Body;
        JsonElement all = (await arm.GetAsync(ArmTestService.WithApi($"/subscriptions/{arm.SubscriptionId}/providers/Microsoft.Compute/snapshots", DiskApi))).Body;

        ArmAnswer accepted = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(SnapshotPath(group, "snap1"), DiskApi));
        JsonElement assignment = Only(await arm.Host.PollAsync(), id);
        ArmAnswer stillThere = await arm.GetAsync(ArmTestService.WithApi(SnapshotPath(group, "snap1"), DiskApi));
        await ReportSnapshotAsync(id, "Deleted");
        ArmAnswer gone = await arm.GetAsync(ArmTestService.WithApi(SnapshotPath(group, "snap1"), DiskApi));
        ArmAnswer again = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(SnapshotPath(group, "snap1"), DiskApi));

        Assert.Equal("snap1", Assert.Single(listed.GetProperty("value").EnumerateArray()).GetProperty("name").GetString());
        Assert.Contains(all.GetProperty("value").EnumerateArray(), s => s.GetProperty("name").GetString() == "snap1");
        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);
        Assert.Equal("Deleted", assignment.GetProperty("desiredState").GetString());
        Assert.Equal("Deleting", stillThere.Body.GetProperty("properties").GetProperty("provisioningState").GetString());
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
        Assert.Equal(HttpStatusCode.NoContent, again.Status);
        Assert.Equal("Succeeded", (await arm.GetAsync(arm.Local(accepted.Header("Azure-AsyncOperation")!))).Body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Put_InAGroupBeingDeleted_Refused()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "src1");
        await arm.ActAsync(group, "src1", "powerOff");
        ArmAnswer deleting = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.GroupPath(group), "2021-04-01"));

        ArmAnswer refused = await PutSnapshotAsync(group, "snap1", SnapshotBody(group, "src1"));

        Assert.Equal(HttpStatusCode.Accepted, deleting.Status);
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.Equal("ResourceGroupBeingDeleted", refused.ErrorCode);
    }

    [Fact]
    public async Task GroupDelete_DeletesItsSnapshots_AndTheGroupGoesOnceTheHostRemovedThem()
    {
        string group = await arm.CreateGroupAsync();
        JsonElement snapshot = await SnapshotOfStoppedVmAsync(group, "src1", "snap1");
        string id = snapshot.GetProperty("properties").GetProperty("uniqueId").GetString()!;

        ArmAnswer deleting = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.GroupPath(group), "2021-04-01"));
        await arm.Host.ConvergeAsync(); // the VM goes
        JsonElement assignment = Only(await arm.Host.PollAsync(), id);
        ArmAnswer groupWhileSnapshotStays = await arm.GetAsync(ArmTestService.WithApi(arm.GroupPath(group), "2021-04-01"));
        await ReportSnapshotAsync(id, "Deleted");
        ArmAnswer groupAfter = await arm.GetAsync(ArmTestService.WithApi(arm.GroupPath(group), "2021-04-01"));

        Assert.Equal(HttpStatusCode.Accepted, deleting.Status);
        Assert.Equal("Deleted", assignment.GetProperty("desiredState").GetString());
        Assert.Equal(HttpStatusCode.OK, groupWhileSnapshotStays.Status);
        Assert.Equal(HttpStatusCode.NotFound, groupAfter.Status);
    }

    private Task<ArmAnswer> RestoreAsync(string group, string vm, string? snapshotId) =>
        arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, vm) + "/restoreFromSnapshot"), new JsonObject { ["snapshotId"] = snapshotId });

    [Fact]
    public async Task Restore_IntoItsOwnStoppedVm_TheHostIsToldOnce_AndASanctionedRestoreIsRecordedWhenTheHostHasRestored()
    {
        string group = await arm.CreateGroupAsync();
        JsonElement snapshot = await SnapshotOfStoppedVmAsync(group, "src1", "snap1");
        var vmId = Guid.Parse(snapshot.GetProperty("properties").GetProperty("trustedLaunchSnapshot").GetProperty("sourceVmId").GetString()!);

        ArmAnswer accepted = await RestoreAsync(group, "src1", snapshot.GetProperty("id").GetString());
        JsonElement assignment = (await arm.Host.PollAsync()).GetProperty("virtualMachines").EnumerateArray()
            .Single(v => string.Equals(v.GetProperty("resourceId").GetString(), arm.VmPath(group, "src1"), StringComparison.OrdinalIgnoreCase));
        JsonElement spec = assignment.GetProperty("spec");
        IReadOnlyList<SanctionedRestore> beforeTheHost = await arm.Service.Service<ISanctionedRestoreStore>().ListAsync(vmId, default);
        JsonObject restored = FakeHost.Report(assignment, "Stopped");
        restored["restoredVersion"] = spec.GetProperty("restoreVersion").GetInt64();
        await arm.Host.ReportAsync(restored);
        await arm.Host.ReportAsync(restored.DeepClone().AsObject()); // a report sent again records nothing more
        JsonElement operation = (await arm.GetAsync(arm.Local(accepted.Header("Azure-AsyncOperation")!))).Body;
        IReadOnlyList<SanctionedRestore> sanctioned = await arm.Service.Service<ISanctionedRestoreStore>().ListAsync(vmId, default);
        ArmAnswer vm = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "src1")));

        Assert.True(accepted.Status == HttpStatusCode.Accepted, accepted.ToString());
        Assert.Empty(beforeTheHost); // asked is not done: nothing is sanctioned until the host has rolled the pair back
        Assert.Equal(snapshot.GetProperty("properties").GetProperty("uniqueId").GetString(), spec.GetProperty("restoreSnapshotId").GetString());
        Assert.Equal(assignment.GetProperty("version").GetInt64(), spec.GetProperty("restoreVersion").GetInt64());
        Assert.Equal("Stopped", assignment.GetProperty("desiredPowerState").GetString());
        Assert.Equal("Succeeded", operation.GetProperty("status").GetString());
        Assert.Contains(snapshot.GetProperty("properties").GetProperty("uniqueId").GetString()!, Assert.Single(sanctioned).Source, StringComparison.Ordinal);
        Assert.Equal("Succeeded", vm.Body.GetProperty("properties").GetProperty("provisioningState").GetString());
        Assert.Equal(vmId.ToString(), vm.Body.GetProperty("properties").GetProperty("vmId").GetString()); // the same VM, the same identity
    }

    [Fact]
    public async Task Restore_RefusedByTheHost_FailsTheOperation_AndLeavesTheQuoteClockFloorUnchanged()
    {
        string group = await arm.CreateGroupAsync();
        JsonElement snapshot = await SnapshotOfStoppedVmAsync(group, "src1", "snap1");
        var vmId = Guid.Parse(snapshot.GetProperty("properties").GetProperty("trustedLaunchSnapshot").GetProperty("sourceVmId").GetString()!);

        ArmAnswer accepted = await RestoreAsync(group, "src1", snapshot.GetProperty("id").GetString());
        JsonElement assignment = (await arm.Host.PollAsync()).GetProperty("virtualMachines").EnumerateArray()
            .Single(v => string.Equals(v.GetProperty("resourceId").GetString(), arm.VmPath(group, "src1"), StringComparison.OrdinalIgnoreCase));
        var error = new JsonObject { ["code"] = "SnapshotIntegrityFailed", ["message"] = "vm.vmgs of snapshot … does not match its manifest" };
        await arm.Host.ReportAsync(FakeHost.Report(assignment, "Stopped", error: error));
        JsonElement operation = (await arm.GetAsync(arm.Local(accepted.Header("Azure-AsyncOperation")!))).Body;

        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);
        Assert.Equal("Failed", operation.GetProperty("status").GetString());
        Assert.Equal("SnapshotIntegrityFailed", operation.GetProperty("error").GetProperty("code").GetString());
        Assert.Empty(await arm.Service.Service<ISanctionedRestoreStore>().ListAsync(vmId, default));
    }

    [Fact]
    public async Task Restore_Refusals_AnotherVmsSnapshot_ARunningVm_AMissingSnapshot_ABadId()
    {
        string group = await arm.CreateGroupAsync();
        JsonElement snapshot = await SnapshotOfStoppedVmAsync(group, "src1", "snap1");
        await arm.CreateRunningAsync(group, "other");
        await arm.ActAsync(group, "src1", "start");
        string id = snapshot.GetProperty("id").GetString()!;

        ArmAnswer other = await RestoreAsync(group, "other", id);
        ArmAnswer running = await RestoreAsync(group, "src1", id);
        ArmAnswer missing = await RestoreAsync(group, "src1", SnapshotPath(group, "nosuch"));
        ArmAnswer badId = await RestoreAsync(group, "src1", arm.VmPath(group, "src1"));

        Assert.Equal(HttpStatusCode.Conflict, other.Status);
        Assert.Equal("SnapshotOfAnotherVirtualMachine", other.ErrorCode);
        Assert.Equal(HttpStatusCode.Conflict, running.Status);
        Assert.Equal("OperationNotAllowed", running.ErrorCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal(HttpStatusCode.BadRequest, badId.Status);
        Assert.Empty(await arm.Service.Service<ISanctionedRestoreStore>().ListAsync(
            Guid.Parse(snapshot.GetProperty("properties").GetProperty("trustedLaunchSnapshot").GetProperty("sourceVmId").GetString()!), default));
    }
}
