using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// A host agent speaking the host contract over HTTP as <c>tl host</c> will (phase 2): register, poll the desired
/// state, and report that it converged (without running anything).
/// </summary>
public sealed class FakeHost(ArmTestService arm, string name)
{
    public string Name { get; } = name;

    public string? Token { get; private set; }

    public async Task<JsonElement> RegisterAsync(int vCpus = 16, int memoryInMB = 65536)
    {
        ArmAnswer registered = await arm.SendAsync(HttpMethod.Put, $"/v1/hosts/{Name}",
            new JsonObject { ["vCpus"] = vCpus, ["memoryInMB"] = memoryInMB, ["accelerator"] = "kvm", ["agentVersion"] = "test" });
        Assert.True(registered.Status == HttpStatusCode.OK, registered.ToString());
        return registered.Body;
    }

    /// <summary>The desired state (long-polls up to <paramref name="timeoutSeconds"/> when nothing changed since the last poll).</summary>
    public async Task<JsonElement> PollAsync(int timeoutSeconds = 0)
    {
        string query = Token is null ? "" : $"?token={Uri.EscapeDataString(Token)}&timeoutSeconds={timeoutSeconds}";
        ArmAnswer answer = await arm.GetAsync($"/v1/hosts/{Name}/assignments{query}");
        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        Token = answer.Body.GetProperty("token").GetString();
        return answer.Body;
    }

    public async Task<ArmAnswer> ReportAsync(params JsonObject[] reports) =>
        await arm.SendAsync(HttpMethod.Post, $"/v1/hosts/{Name}/reports", new JsonObject { ["virtualMachines"] = new JsonArray(reports) });

    public static JsonObject Report(JsonElement assignment, string? powerState = null, bool deleted = false, JsonObject? error = null,
        string? bootVerdict = null) => new()
    {
        ["vmId"] = assignment.GetProperty("vmId").GetString(),
        ["observedVersion"] = assignment.GetProperty("version").GetInt64(),
        ["powerState"] = powerState,
        ["deleted"] = deleted,
        ["error"] = error,
        ["bootVerdict"] = bootVerdict,
    };

    /// <summary>Polls once and reports every assigned VM converged: running/stopped/deallocated as desired, deleted when deleted.</summary>
    public async Task ConvergeAsync()
    {
        JsonElement assignments = await PollAsync();
        var reports = new List<JsonObject>();
        foreach (JsonElement vm in assignments.GetProperty("virtualMachines").EnumerateArray())
        {
            string desired = vm.GetProperty("desiredPowerState").GetString()!;
            reports.Add(desired == "Deleted" ? Report(vm, deleted: true) : Report(vm, desired, bootVerdict: desired == "Running" ? "booted" : null));
        }

        if (reports.Count > 0)
        {
            ArmAnswer reported = await ReportAsync([.. reports]);
            Assert.True(reported.Status == HttpStatusCode.OK, reported.ToString());
        }
    }

    public static JsonElement Assignment(JsonElement assignments, string vmName) =>
        assignments.GetProperty("virtualMachines").EnumerateArray().Single(v => v.GetProperty("name").GetString() == vmName);
}
