using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.Server.Tests.Posture;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// <c>POST …/x-tl-updateSecureBootKeys</c> and its fleet form against the real service, with a host speaking the host
/// contract: what is recorded, what the host is told, how its report completes the operation, and what is refused.
/// (The host's own half, the VMGS rewrite on real boots, is <c>KeyRolloverPlatformTests</c>.)
/// </summary>
public sealed class SecureBootKeyUpdateApiTests : IAsyncLifetime
{
    private readonly PostureTestService _arm = new(caDirectory: null, backgroundWork: false);

    public Task InitializeAsync() => _arm.InitializeAsync();

    public Task DisposeAsync() => _arm.DisposeAsync();

    [Fact]
    public async Task RunningVm_RecordedForNextRestart_HostReportCompletesOperation_InstanceViewShowsWhatChanged()
    {
        (string group, string name, _) = await _arm.CreateRunningVmAsync(ArmTestService.TrustedLaunch());

        ArmAnswer accepted = await UpdateAsync(group, name, new JsonObject { ["template"] = "microsoft", ["dbxUpdate"] = Convert.ToBase64String([1, 2, 3]), ["dbxUpdateName"] = "DBXUpdate.bin" });

        Assert.True(accepted.Status == HttpStatusCode.Accepted, accepted.ToString());
        Assert.Equal("PendingRestart", accepted.Body.GetProperty("status").GetString());
        Assert.Contains("next start", accepted.Body.GetProperty("message").GetString()!, StringComparison.Ordinal);
        string operationId = accepted.Body.GetProperty("operationId").GetString()!;
        string monitor = _arm.Local(accepted.Header("Azure-AsyncOperation")!);
        Assert.Equal("InProgress", (await _arm.GetAsync(monitor)).Body.GetProperty("status").GetString());
        Assert.Contains(Statuses(await InstanceViewAsync(group, name)), s => s == "x-tl-SecureBootKeyUpdate/pendingRestart");

        // A second request while the first is pending is refused, naming the pending operation.
        ArmAnswer again = await UpdateAsync(group, name, new JsonObject { ["template"] = "microsoft-2023" });
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Equal("AnotherOperationInProgress", again.ErrorCode);

        // The host is told (template, the update's bytes, the operation), applies it and reports.
        JsonElement assignment = FakeHost.Assignment(await _arm.Host.PollAsync(), name);
        JsonElement told = assignment.GetProperty("secureBootKeyUpdate");
        Assert.Equal(operationId, told.GetProperty("operationId").GetString());
        Assert.Equal("microsoft", told.GetProperty("template").GetString());
        Assert.Equal(Convert.ToBase64String([1, 2, 3]), told.GetProperty("dbxUpdate").GetString());
        JsonObject report = FakeHost.Report(assignment, "Stopped");
        report["secureBootKeyUpdate"] = new JsonObject
        {
            ["operationId"] = operationId, ["outcome"] = "Applied", ["message"] = "4 entries changed (KEK 1 added, db 3 added).",
            ["changes"] = new JsonArray("KEK added CN=Microsoft Corporation KEK 2K CA 2023", "db added CN=Microsoft UEFI CA 2023"),
            ["before"] = Digests(kek: 1, dbx: 0), ["after"] = Digests(kek: 2, dbx: 443),
        };
        Assert.Equal(HttpStatusCode.OK, (await _arm.Host.ReportAsync(report)).Status);

        Assert.Equal("Succeeded", (await _arm.GetAsync(monitor)).Body.GetProperty("status").GetString());
        JsonElement view = await InstanceViewAsync(group, name);
        Assert.Contains(Statuses(view), s => s == "x-tl-SecureBootKeyUpdate/succeeded");
        JsonElement record = view.GetProperty("x-tl-secureBootKeyUpdate");
        Assert.Equal(operationId, record.GetProperty("operationId").GetString());
        Assert.Equal("Applied", record.GetProperty("outcome").GetString());
        Assert.Equal(443, record.GetProperty("after").GetProperty("dbxCount").GetInt32());
        Assert.Equal(64, record.GetProperty("dbxUpdateSha256").GetString()!.Length);
        Assert.False(record.TryGetProperty("dbxUpdate", out _)); // the bytes are gone once applied
        Assert.False(FakeHost.Assignment(await _arm.Host.PollAsync(), name).TryGetProperty("secureBootKeyUpdate", out _));
    }

    [Fact]
    public async Task VmDeletedWhileItsUpdateIsPending_TheUpdatesOperationEndsCanceled()
    {
        (string group, string name, _) = await _arm.CreateRunningVmAsync(ArmTestService.TrustedLaunch());
        ArmAnswer accepted = await UpdateAsync(group, name, new JsonObject { ["template"] = "microsoft" });
        Assert.True(accepted.Status == HttpStatusCode.Accepted, accepted.ToString());
        string monitor = _arm.Local(accepted.Header("Azure-AsyncOperation")!);

        ArmAnswer deleting = await _arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(_arm.VmPath(group, name)));
        Assert.True(deleting.Status is HttpStatusCode.Accepted or HttpStatusCode.OK or HttpStatusCode.NoContent, deleting.ToString());
        await _arm.Host.ConvergeAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await _arm.GetAsync(ArmTestService.WithApi(_arm.VmPath(group, name)))).Status);
        JsonElement operation = (await _arm.GetAsync(monitor)).Body;
        Assert.Equal("Canceled", operation.GetProperty("status").GetString());
        Assert.Equal("OperationCanceled", operation.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task DeallocatedVm_PreflightRefusalFailsTheOperationWithTheBinaryAndTheReason()
    {
        (string group, string name, _) = await _arm.CreateRunningVmAsync(ArmTestService.TrustedLaunch());
        Assert.Equal(HttpStatusCode.Accepted, (await _arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(_arm.VmPath(group, name) + "/deallocate"))).Status);
        await _arm.Host.ConvergeAsync();

        ArmAnswer accepted = await UpdateAsync(group, name, new JsonObject { ["dbxUpdate"] = Convert.ToBase64String([9]) });
        Assert.Equal("Pending", accepted.Body.GetProperty("status").GetString());
        JsonElement assignment = FakeHost.Assignment(await _arm.Host.PollAsync(), name);
        JsonObject report = FakeHost.Report(assignment, "Deallocated");
        const string reason = "/EFI/BOOT/BOOTX64.EFI would no longer boot: Denied: signed by CN=Microsoft Corporation UEFI CA 2011, forbidden by dbx";
        report["secureBootKeyUpdate"] = new JsonObject
        {
            ["operationId"] = accepted.Body.GetProperty("operationId").GetString(), ["outcome"] = "RefusedByPreflight", ["message"] = reason,
        };
        Assert.Equal(HttpStatusCode.OK, (await _arm.Host.ReportAsync(report)).Status);

        JsonElement operation = (await _arm.GetAsync(_arm.Local(accepted.Header("Azure-AsyncOperation")!))).Body;
        Assert.Equal("Failed", operation.GetProperty("status").GetString());
        Assert.Equal("SecureBootPreflightFailed", operation.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains(reason, operation.GetProperty("error").GetProperty("message").GetString()!, StringComparison.Ordinal);
        Assert.Contains(Statuses(await InstanceViewAsync(group, name)), s => s == "x-tl-SecureBootKeyUpdate/failed");
    }

    public static TheoryData<string, string, string> BadBodies => new()
    {
        { "nothing to do", "{}", "template" },
        { "2011 is not a target", """{"template":"microsoft-2011"}""", "template" },
        { "dbx not base64", """{"dbxUpdate":"not base64!"}""", "dbxUpdate" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task BadBody_400InvalidParameterWithTarget(string label, string body, string target)
    {
        (string group, string name, _) = await _arm.CreateRunningVmAsync(ArmTestService.TrustedLaunch());
        ArmAnswer refused = await UpdateAsync(group, name, JsonNode.Parse(body)!);
        Assert.True(refused.Status == HttpStatusCode.BadRequest, $"{label}: {refused}");
        Assert.Equal("InvalidParameter", refused.ErrorCode);
        Assert.Equal(target, refused.Error.GetProperty("target").GetString());
    }

    [Fact]
    public async Task Fleet_EveryVmOfTheGroupItsOwnOperation_StandardVmRefusedByNameStopsNothing()
    {
        (string group, string first, _) = await _arm.CreateRunningVmAsync(ArmTestService.TrustedLaunch());
        string second = _arm.NewName("vm"), standard = _arm.NewName("vm");
        JsonObject trusted = ArmTestService.VmBody();
        trusted["properties"]!["securityProfile"] = ArmTestService.TrustedLaunch();
        Assert.Equal(HttpStatusCode.Created, (await _arm.PutVmAsync(group, second, trusted)).Status);
        JsonObject plain = ArmTestService.VmBody();
        plain["properties"]!["securityProfile"] = new JsonObject { ["securityType"] = "Standard" };
        ArmAnswer createdStandard = await _arm.PutVmAsync(group, standard, plain);
        Assert.True(createdStandard.Status == HttpStatusCode.Created, createdStandard.ToString());
        await _arm.Host.ConvergeAsync();

        ArmAnswer fleet = await _arm.SendAsync(HttpMethod.Post,
            ArmTestService.WithApi($"{_arm.GroupPath(group)}/providers/Microsoft.Compute/x-tl-updateSecureBootKeys"), new JsonObject { ["template"] = "microsoft" });

        Assert.True(fleet.Status == HttpStatusCode.OK, fleet.ToString());
        Dictionary<string, JsonElement> rows = fleet.Body.GetProperty("value").EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!, r => r);
        Assert.Equal(3, rows.Count);
        Assert.Equal("PendingRestart", rows[first].GetProperty("status").GetString());
        Assert.Equal("PendingRestart", rows[second].GetProperty("status").GetString());
        Assert.NotEqual(rows[first].GetProperty("operationId").GetString(), rows[second].GetProperty("operationId").GetString());
        Assert.Equal("Refused", rows[standard].GetProperty("status").GetString());
        Assert.Equal("OperationNotAllowed", rows[standard].GetProperty("error").GetProperty("code").GetString());
        Assert.Contains($"VM '{standard}' is not a Trusted Launch VM", rows[standard].GetProperty("error").GetProperty("message").GetString()!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fleet_OneScaleSet_OnlyItsInstances_UnknownScaleSetNotFound()
    {
        (string group, string standalone, _) = await _arm.CreateRunningVmAsync(ArmTestService.TrustedLaunch());
        ArmAnswer created = await _arm.SendAsync(HttpMethod.Put,
            ArmTestService.WithApi($"{_arm.GroupPath(group)}/providers/Microsoft.Compute/virtualMachineScaleSets/web"), ScaleSetApiTests.Body(capacity: 2));
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        await _arm.Host.ConvergeAsync();
        string fleetPath = ArmTestService.WithApi($"{_arm.GroupPath(group)}/providers/Microsoft.Compute/x-tl-updateSecureBootKeys");

        ArmAnswer fleet = await _arm.SendAsync(HttpMethod.Post, fleetPath, new JsonObject { ["template"] = "microsoft", ["virtualMachineScaleSet"] = "web" });

        Assert.True(fleet.Status == HttpStatusCode.OK, fleet.ToString());
        JsonElement[] rows = fleet.Body.GetProperty("value").EnumerateArray().ToArray();
        Assert.Equal(2, rows.Length);
        Assert.All(rows, r => Assert.StartsWith("web_", r.GetProperty("name").GetString(), StringComparison.Ordinal));
        Assert.DoesNotContain(rows, r => r.GetProperty("name").GetString() == standalone);
        Assert.All(rows, r => Assert.Equal("PendingRestart", r.GetProperty("status").GetString()));
        ArmAnswer unknown = await _arm.SendAsync(HttpMethod.Post, fleetPath, new JsonObject { ["template"] = "microsoft", ["virtualMachineScaleSet"] = "nope" });
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
    }

    [Fact]
    public async Task Certificates2023Remediation_DeallocatesUpdatesKeysThroughTheOperationStarts()
    {
        (string group, string name, _) = await _arm.CreateRunningVmAsync(ArmTestService.TrustedLaunch());
        string assessment = $"{_arm.VmPath(group, name)}/providers/Microsoft.Security/assessments/5c1d7e0a-2b9f-4f3e-9a64-2026b007ca23";

        ArmAnswer started = await _arm.SendAsync(HttpMethod.Post, assessment + "/remediate?api-version=2021-06-01");
        Assert.True(started.Status == HttpStatusCode.Accepted, started.ToString());
        Assert.Equal(["Deallocate", "UpdateKeys", "Start"], started.Body.GetProperty("steps").EnumerateArray().Select(s => s.GetString()));
        JsonElement remediation = default;
        string? told = null;
        for (int i = 0; i < 200; i++)
        {
            if (await ConvergeAnsweringKeyUpdatesAsync() is string template)
                told = template;
            remediation = (await _arm.GetAsync(assessment + "/remediation?api-version=2021-06-01")).Body;
            if (remediation.GetProperty("status").GetString() != "InProgress")
                break;
            await Task.Delay(50);
        }

        Assert.True(remediation.GetProperty("status").GetString() == "Succeeded", remediation.ToString());
        Assert.Equal("microsoft", told);
        JsonElement view = await InstanceViewAsync(group, name);
        Assert.Equal("Applied", view.GetProperty("x-tl-secureBootKeyUpdate").GetProperty("outcome").GetString());
        Assert.Contains(Statuses(view), s => s == "PowerState/running");
    }

    /// <summary>Converges every VM as the fake host does, and applies a pending key update (Applied); answers the template it was told, if any.</summary>
    private async Task<string?> ConvergeAnsweringKeyUpdatesAsync()
    {
        string? template = null;
        var reports = new List<JsonObject>();
        foreach (JsonElement vm in (await _arm.Host.PollAsync()).GetProperty("virtualMachines").EnumerateArray())
        {
            string desired = vm.GetProperty("desiredPowerState").GetString()!;
            JsonObject report = FakeHost.Report(vm, desired, bootVerdict: desired == "Running" ? "booted" : null);
            if (vm.TryGetProperty("secureBootKeyUpdate", out JsonElement update))
            {
                template = update.GetProperty("template").GetString();
                report["secureBootKeyUpdate"] = new JsonObject
                {
                    ["operationId"] = update.GetProperty("operationId").GetString(), ["outcome"] = "Applied", ["message"] = "4 entries changed.",
                    ["before"] = Digests(kek: 1, dbx: 0), ["after"] = Digests(kek: 2, dbx: 0),
                };
            }

            reports.Add(report);
        }

        if (reports.Count > 0)
            Assert.Equal(HttpStatusCode.OK, (await _arm.Host.ReportAsync([.. reports])).Status);
        return template;
    }

    private Task<ArmAnswer> UpdateAsync(string group, string name, JsonNode body) =>
        _arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(_arm.VmPath(group, name) + "/x-tl-updateSecureBootKeys"), body);

    private async Task<JsonElement> InstanceViewAsync(string group, string name) =>
        (await _arm.GetAsync(ArmTestService.WithApi(_arm.VmPath(group, name) + "/instanceView"))).Body;

    private static IEnumerable<string> Statuses(JsonElement view) =>
        view.GetProperty("statuses").EnumerateArray().Select(s => s.GetProperty("code").GetString()!);

    private static JsonObject Digests(int kek, int dbx) => new()
    {
        ["kek"] = new JsonArray([.. Enumerable.Range(0, kek).Select(i => (JsonNode)new string((char)('a' + i), 64))]),
        ["db"] = new JsonArray(new string('d', 64)),
        ["dbxCount"] = dbx,
        ["dbxDigest"] = new string('0', 64),
    };
}
