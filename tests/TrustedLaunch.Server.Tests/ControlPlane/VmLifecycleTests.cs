using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// Operations converged by a host through the host contract: create, power actions, delete, failures, the instance
/// view (power state, boot verdict, attestation), ETag updates, a lost host, and the long-poll.
/// </summary>
public sealed class VmLifecycleTests(HostedArmTestService arm) : IClassFixture<HostedArmTestService>
{
    private async Task<JsonElement> InstanceViewAsync(string group, string vm)
    {
        ArmAnswer view = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, vm) + "/instanceView"));
        Assert.True(view.Status == HttpStatusCode.OK, view.ToString());
        return view.Body;
    }

    private static string[] Codes(JsonElement view) => view.GetProperty("statuses").EnumerateArray().Select(s => s.GetProperty("code").GetString()!).ToArray();

    [Fact]
    public async Task Create_HostConverges_OperationSucceededAndInstanceViewRunning()
    {
        string group = await arm.CreateGroupAsync();
        ArmAnswer created = await arm.PutVmAsync(group, "run1", ArmTestService.VmBody());
        string monitor = arm.Local(created.Header("Azure-AsyncOperation")!);
        JsonElement before = await InstanceViewAsync(group, "run1");

        JsonElement assignments = await arm.Host.PollAsync();
        JsonElement assignment = FakeHost.Assignment(assignments, "run1");
        await arm.Host.ReportAsync(FakeHost.Report(assignment, "Running", bootVerdict: "booted"));
        JsonElement after = await InstanceViewAsync(group, "run1");
        ArmAnswer operation = await arm.GetAsync(monitor);

        Assert.Equal(["ProvisioningState/creating", "PowerState/starting"], Codes(before));
        Assert.Equal("Running", assignment.GetProperty("desiredPowerState").GetString());
        JsonElement spec = assignment.GetProperty("spec");
        Assert.Equal((2, 8192, "V2", "TrustedLaunch"), (spec.GetProperty("vCpus").GetInt32(), spec.GetProperty("memoryInMB").GetInt32(),
            spec.GetProperty("hyperVGeneration").GetString(), spec.GetProperty("securityType").GetString()));
        Assert.Equal("/var/lib/trustedlaunch/images/debian-12-12-gen2-1.1.0.qcow2", spec.GetProperty("imagePath").GetString());
        Assert.Equal("Delete", spec.GetProperty("osDiskDeleteOption").GetString());
        Assert.Equal(["ProvisioningState/succeeded", "PowerState/running", "BootVerdict/booted"], Codes(after));
        Assert.Equal("VM running", after.GetProperty("statuses")[1].GetProperty("displayStatus").GetString());
        Assert.Equal("V2", after.GetProperty("hyperVGeneration").GetString());
        Assert.Equal("web01", after.GetProperty("computerName").GetString());
        Assert.Equal("Succeeded", operation.Body.GetProperty("status").GetString());
        Assert.True(operation.Body.TryGetProperty("endTime", out _));
    }

    [Fact]
    public async Task PowerOff_202LocationPolledUntilTheHostReports()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "off1");

        ArmAnswer accepted = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "off1") + "/powerOff"));
        string location = arm.Local(accepted.Headers.Location!.ToString());
        ArmAnswer running = await arm.GetAsync(location);
        await arm.Host.ConvergeAsync();
        ArmAnswer done = await arm.GetAsync(location);
        ArmAnswer restart = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "off1") + "/restart"));

        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);
        Assert.Equal("10", accepted.Header("Retry-After"));
        Assert.Contains("monitor=true", location, StringComparison.Ordinal);
        Assert.NotNull(accepted.Header("Azure-AsyncOperation"));
        Assert.Equal(HttpStatusCode.Accepted, running.Status);
        Assert.Equal(HttpStatusCode.OK, done.Status);
        Assert.Contains("PowerState/stopped", Codes(await InstanceViewAsync(group, "off1")));
        Assert.Equal((HttpStatusCode.Conflict, "OperationNotAllowed"), (restart.Status, restart.ErrorCode));
        Assert.Equal("Operation 'restart' is not allowed on VM 'off1' since the VM is stopped.", restart.Error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Restart_HostSeesAHigherRestartGeneration()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "rs1");
        long before = FakeHost.Assignment(await arm.Host.PollAsync(), "rs1").GetProperty("restartGeneration").GetInt64();

        await arm.ActAsync(group, "rs1", "restart");

        JsonElement assignment = FakeHost.Assignment(await arm.Host.PollAsync(), "rs1");
        Assert.Equal(before + 1, assignment.GetProperty("restartGeneration").GetInt64());
        Assert.Contains("PowerState/running", Codes(await InstanceViewAsync(group, "rs1")));
    }

    [Fact]
    public async Task NewerAction_PreemptsTheRunningOne()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "pre1");

        ArmAnswer off = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "pre1") + "/powerOff"));
        ArmAnswer deallocate = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "pre1") + "/deallocate"));
        await arm.Host.ConvergeAsync();
        ArmAnswer first = await arm.GetAsync(arm.Local(off.Header("Azure-AsyncOperation")!));
        ArmAnswer second = await arm.GetAsync(arm.Local(deallocate.Header("Azure-AsyncOperation")!));

        Assert.Equal("Canceled", first.Body.GetProperty("status").GetString());
        Assert.Equal("Operation execution has been preempted by a more recent operation.", first.Body.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("Succeeded", second.Body.GetProperty("status").GetString());
        Assert.Contains("PowerState/deallocated", Codes(await InstanceViewAsync(group, "pre1")));
    }

    [Fact]
    public async Task Delete_PlacedVm_DeletingUntilTheHostReportsThen404()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "del1");

        ArmAnswer accepted = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, "del1")));
        ArmAnswer deleting = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "del1")));
        JsonElement assignment = FakeHost.Assignment(await arm.Host.PollAsync(), "del1");
        await arm.Host.ReportAsync(FakeHost.Report(assignment, deleted: true));
        ArmAnswer gone = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "del1")));
        ArmAnswer operation = await arm.GetAsync(arm.Local(accepted.Header("Azure-AsyncOperation")!));

        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);
        Assert.Equal("Deleting", deleting.Body.GetProperty("properties").GetProperty("provisioningState").GetString());
        Assert.Equal("Deleted", assignment.GetProperty("desiredPowerState").GetString());
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
        Assert.Equal("Succeeded", operation.Body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task HostReportsFailure_OperationFailedAndProvisioningFailed()
    {
        string group = await arm.CreateGroupAsync();
        ArmAnswer created = await arm.PutVmAsync(group, "fail1", ArmTestService.VmBody());
        JsonElement assignment = FakeHost.Assignment(await arm.Host.PollAsync(), "fail1");

        await arm.Host.ReportAsync(FakeHost.Report(assignment, "Stopped", bootVerdict: "secure-boot-violation",
            error: new JsonObject { ["code"] = "SecureBootViolation", ["message"] = "The firmware refused \\EFI\\BOOT\\BOOTX64.EFI." }));
        ArmAnswer operation = await arm.GetAsync(arm.Local(created.Header("Azure-AsyncOperation")!));
        JsonElement view = await InstanceViewAsync(group, "fail1");
        ArmAnswer monitor = await arm.GetAsync(arm.Local(created.Header("Azure-AsyncOperation")!).Replace("?", "?monitor=true&", StringComparison.Ordinal));

        Assert.Equal("Failed", operation.Body.GetProperty("status").GetString());
        Assert.Equal("SecureBootViolation", operation.Body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(["ProvisioningState/failed/SecureBootViolation", "PowerState/stopped", "BootVerdict/secure-boot-violation"], Codes(view));
        Assert.Equal("SecureBootViolation", monitor.ErrorCode);
    }

    [Fact]
    public async Task InstanceView_ShowsTheLatestAttestation()
    {
        string group = await arm.CreateGroupAsync();
        JsonElement vm = await arm.CreateRunningAsync(group, "att1");
        var vmId = Guid.Parse(vm.GetProperty("properties").GetProperty("vmId").GetString()!);
        IAttestationResultStore results = arm.Service.Service<IAttestationResultStore>();
        await results.AddAsync(new AttestationRecord { VmId = vmId, At = arm.Service.Clock.GetUtcNow(), Verdict = AttestationVerdict.Pass }, default);
        JsonElement passed = await InstanceViewAsync(group, "att1");
        await results.AddAsync(new AttestationRecord
        {
            VmId = vmId, At = arm.Service.Clock.GetUtcNow(), Verdict = AttestationVerdict.Fail, Reason = "BaselineDeviation", Component = "PCR 4",
        }, default);

        JsonElement failed = await InstanceViewAsync(group, "att1");

        Assert.Contains("GuestAttestation/pass", Codes(passed));
        JsonElement status = failed.GetProperty("statuses").EnumerateArray().Single(s => s.GetProperty("code").GetString() == "GuestAttestation/fail");
        Assert.Equal("Error", status.GetProperty("level").GetString());
        Assert.Equal("BaselineDeviation: PCR 4", status.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Get_ExpandInstanceView_Included()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "exp1");

        ArmAnswer answer = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "exp1")) + "&$expand=instanceView");

        Assert.Equal("PowerState/running", answer.Body.GetProperty("properties").GetProperty("instanceView").GetProperty("statuses")[1].GetProperty("code").GetString());
    }

    [Fact]
    public async Task Put_IfMatch_CurrentEtagUpdatesStaleOne412()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "etag1");
        ArmAnswer current = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "etag1")));
        string etag = current.Headers.ETag!.Tag;

        ArmAnswer updated = await arm.PutVmAsync(group, "etag1", ArmTestService.VmBody(), headers: ("If-Match", etag));
        ArmAnswer stale = await arm.PutVmAsync(group, "etag1", ArmTestService.VmBody(), headers: ("If-Match", etag));
        ArmAnswer patchedStale = await arm.SendAsync(HttpMethod.Patch, ArmTestService.WithApi(arm.VmPath(group, "etag1")),
            new JsonObject { ["tags"] = new JsonObject() }, ("If-Match", etag));
        ArmAnswer deleteStale = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, "etag1")), null, ("If-Match", etag));

        Assert.Equal("\"1\"", etag);
        Assert.Equal(HttpStatusCode.OK, updated.Status);
        Assert.Equal("\"2\"", updated.Headers.ETag?.Tag);
        Assert.Equal("Updating", updated.Body.GetProperty("properties").GetProperty("provisioningState").GetString());
        Assert.NotNull(updated.Header("Azure-AsyncOperation"));
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.Status);
        Assert.Equal(HttpStatusCode.PreconditionFailed, patchedStale.Status);
        Assert.Equal(HttpStatusCode.PreconditionFailed, deleteStale.Status);
    }

    [Fact]
    public async Task Patch_TagsOnly_KeepsEverythingElse()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "patch1");

        ArmAnswer patched = await arm.SendAsync(HttpMethod.Patch, ArmTestService.WithApi(arm.VmPath(group, "patch1")),
            new JsonObject { ["tags"] = new JsonObject { ["owner"] = "ops" } });
        ArmAnswer missing = await arm.SendAsync(HttpMethod.Patch, ArmTestService.WithApi(arm.VmPath(group, "nope1")), new JsonObject());

        Assert.Equal(HttpStatusCode.OK, patched.Status);
        Assert.Equal("ops", patched.Body.GetProperty("tags").GetProperty("owner").GetString());
        Assert.Equal("Standard_D2s_v3", patched.Body.GetProperty("properties").GetProperty("hardwareProfile").GetProperty("vmSize").GetString());
        Assert.Equal("TrustedLaunch", patched.Body.GetProperty("properties").GetProperty("securityProfile").GetProperty("securityType").GetString());
        Assert.Equal((HttpStatusCode.NotFound, "ResourceNotFound"), (missing.Status, missing.ErrorCode));
    }

    [Fact]
    public async Task Create_TooBigForAnyHost_409AllocationFailedAndNothingStored()
    {
        string group = await arm.CreateGroupAsync();

        ArmAnswer answer = await arm.PutVmAsync(group, "huge1", ArmTestService.VmBody(size: "Standard_M128ms"));

        Assert.Equal((HttpStatusCode.Conflict, "AllocationFailed"), (answer.Status, answer.ErrorCode));
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "huge1")))).Status);
    }

    [Fact]
    public async Task LongPoll_AnsweredWhenTheDesiredStateChanges()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "poll1");
        await arm.Host.PollAsync();

        var watch = Stopwatch.StartNew();
        Task<JsonElement> poll = arm.Host.PollAsync(timeoutSeconds: 30);
        await Task.Delay(200);
        Assert.False(poll.IsCompleted);
        ArmAnswer accepted = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "poll1") + "/powerOff"));
        JsonElement assignments = await poll;

        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"the poll took {watch.Elapsed}");
        Assert.Equal("Stopped", FakeHost.Assignment(assignments, "poll1").GetProperty("desiredPowerState").GetString());
        await arm.Host.ConvergeAsync();
    }

    [Fact]
    public async Task LongPoll_AnsweredAtOnceWhenTheServiceStops_SoItsShutdownDoesNotWaitForThePoll()
    {
        // A service of its own: this test stops it.
        var own = new HostedArmTestService();
        await own.InitializeAsync();
        try
        {
            string group = await own.CreateGroupAsync();
            await own.CreateRunningAsync(group, "stop1");
            string token = (await own.Host.PollAsync()).GetProperty("token").GetString()!;
            Task<JsonElement> poll = own.Host.PollAsync(timeoutSeconds: 60);
            await Task.Delay(200);
            Assert.False(poll.IsCompleted);

            var watch = Stopwatch.StartNew();
            await own.Service.App.StopAsync();
            JsonElement assignments = await poll.WaitAsync(TimeSpan.FromSeconds(10));

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {watch.Elapsed}");
            Assert.Equal(token, assignments.GetProperty("token").GetString()); // the state as it was: nothing changed
        }
        finally
        {
            await own.DisposeAsync();
        }
    }

    [Fact]
    public async Task HostLost_ItsVmsShowUnknownNotStopped()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "lost1");

        arm.Service.Clock.Advance(TimeSpan.FromMinutes(5));
        JsonElement view = await InstanceViewAsync(group, "lost1");
        ArmAnswer hosts = await arm.GetAsync("/v1/hosts");
        await arm.Host.RegisterAsync(vCpus: 256, memoryInMB: 1024 * 1024);

        Assert.Contains("PowerState/unknown", Codes(view));
        Assert.False(hosts.Body.EnumerateArray().Single(h => h.GetProperty("name").GetString() == "host1").GetProperty("alive").GetBoolean());
        Assert.Contains("PowerState/running", Codes(await InstanceViewAsync(group, "lost1")));
    }

    [Fact]
    public async Task Report_UnknownVmOrOtherHostsVm_NotApplied()
    {
        ArmAnswer answer = await arm.Host.ReportAsync(new JsonObject { ["vmId"] = Guid.NewGuid().ToString(), ["observedVersion"] = 1, ["powerState"] = "Running" });
        ArmAnswer bad = await arm.Host.ReportAsync(new JsonObject { ["vmId"] = Guid.NewGuid().ToString(), ["observedVersion"] = 1, ["powerState"] = "Flying" });
        ArmAnswer unknownHost = await arm.SendAsync(HttpMethod.Post, "/v1/hosts/nohost/reports", new JsonObject());

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(0, answer.Body.GetProperty("applied").GetInt32());
        Assert.Single(answer.Body.GetProperty("unknown").EnumerateArray());
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidParameter"), (bad.Status, bad.ErrorCode));
        Assert.Equal((HttpStatusCode.NotFound, "HostNotFound"), (unknownHost.Status, unknownHost.ErrorCode));
    }
}
