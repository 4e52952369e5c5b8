using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Tests.ControlPlane;
using TrustedLaunch.Server.Tests.Posture;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Security;

/// <summary>
/// <c>tl security …</c> in process against the real service (Kestrel on loopback, SQLite, a host that converges VMs),
/// posture evaluated by hand (background work off): what each command prints and its exit code (0 ok, 1 not found,
/// 2 bad input, 3 unreachable).
/// </summary>
public sealed class SecurityCliTests : IAsyncLifetime
{
    private const string SecureBootKey = "69ad830b-d98c-b1cf-2158-9d69d38c7093";
    private readonly PostureTestService _arm = new(caDirectory: null, backgroundWork: false);

    public Task InitializeAsync() => _arm.InitializeAsync();

    public Task DisposeAsync() => _arm.DisposeAsync();

    private string Server => _arm.Service.BaseAddress.ToString();

    /// <summary><c>tl security ARGS --server …</c>, in this process.</summary>
    private async Task<ToolResult> Tl(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = await TlCli.InvokeAsync(["security", .. args, "--server", Server], stdout, stderr);
        return new ToolResult(code, stdout.ToString(), stderr.ToString());
    }

    private static JsonElement Json(ToolResult result, int code = 0)
    {
        Assert.True(result.ExitCode == code, $"expected exit {code}\n{result}");
        return JsonDocument.Parse(result.StandardOutput).RootElement.Clone();
    }

    private static void ExpectExit(ToolResult result, int code) => Assert.True(result.ExitCode == code, $"expected exit {code}\n{result}");

    private Task<PostureRun> EvaluateAsync() => _arm.Service.Service<PostureEngine>().RunOnceAsync(fullSweep: true, default);

    private static string Status(JsonElement resource) => resource.GetProperty("properties").GetProperty("status").GetString()!;

    [Fact]
    public async Task Assessment_ListAndShow_SecureBootOffUnhealthyWithHistory_BadKeyAndScope()
    {
        (string group, string vm, _) = await _arm.CreateRunningVmAsync(ArmTestService.TrustedLaunch(secureBoot: false));
        await EvaluateAsync();

        JsonElement[] ofVm = Json(await Tl("assessment", "list", "-g", group, "--vm", vm)).EnumerateArray().ToArray();
        JsonElement[] ofGroup = Json(await Tl("assessment", "list", "-g", group)).EnumerateArray().ToArray();
        JsonElement[] ofSubscription = Json(await Tl("assessment", "list")).EnumerateArray().ToArray();
        JsonElement shown = Json(await Tl("assessment", "show", "-g", group, "--vm", vm, "-n", SecureBootKey));

        // The four Trusted Launch recommendations and the two Secure Boot rollover ones.
        Assert.Equal(6, ofVm.Length);
        Assert.Equal(6, ofGroup.Length);
        Assert.Equal(6, ofSubscription.Length);
        JsonElement properties = shown.GetProperty("properties");
        Assert.Equal(("Unhealthy", "SecureBootDisabled"), (properties.GetProperty("status").GetProperty("code").GetString(),
            properties.GetProperty("status").GetProperty("cause").GetString()));
        Assert.Equal(Recommendations.SecureBoot.DisplayName, properties.GetProperty("displayName").GetString());
        Assert.Equal("Low", properties.GetProperty("metadata").GetProperty("severity").GetString());
        Assert.Equal(["Unhealthy"], properties.GetProperty("statusHistory").EnumerateArray().Select(h => h.GetProperty("code").GetString()));

        ToolResult unknownKey = await Tl("assessment", "show", "-g", group, "--vm", vm, "-n", "00000000-0000-0000-0000-000000000000");
        ExpectExit(unknownKey, 2);
        Assert.Contains("assessmentName", unknownKey.StandardError, StringComparison.Ordinal);
        ExpectExit(await Tl("assessment", "list", "-g", group, "--vm", "absent"), 1);
        ExpectExit(await Tl("assessment", "list", "--vm", vm), 2);
    }

    [Fact]
    public async Task Pricing_CreateAndList_BadTierExit2()
    {
        JsonElement set = Json(await Tl("pricing", "create", "-n", "VirtualMachines", "--tier", "Standard"));
        JsonElement[] plans = Json(await Tl("pricing", "list")).EnumerateArray().ToArray();

        Assert.Equal("Standard", set.GetProperty("properties").GetProperty("pricingTier").GetString());
        Assert.Equal("Standard", Assert.Single(plans, p => p.GetProperty("name").GetString() == "VirtualMachines").GetProperty("properties").GetProperty("pricingTier").GetString());
        ExpectExit(await Tl("pricing", "create", "-n", "VirtualMachines", "--tier", "Premium"), 2);
        ExpectExit(await Tl("pricing", "create", "-n", "StorageAccounts", "--tier", "Standard"), 2);
    }

    [Fact]
    public async Task Alert_ListFilterShowUpdate_ThroughTheStatuses()
    {
        Json(await Tl("pricing", "create", "-n", "VirtualMachines", "--tier", "Standard"));
        (_, _, Guid vmId) = await _arm.CreateRunningVmAsync(ArmTestService.TrustedLaunch());
        await _arm.AddResultAsync(vmId, failure: "BaselineDeviation");
        await EvaluateAsync();

        JsonElement alert = Assert.Single(Json(await Tl("alert", "list", "--status", "Active", "--severity", "Medium")).EnumerateArray().ToArray());
        string name = alert.GetProperty("name").GetString()!;
        JsonElement shown = Json(await Tl("alert", "show", "-n", name));
        JsonElement inProgress = Json(await Tl("alert", "update", "-n", name, "--status", "InProgress"));
        JsonElement resolved = Json(await Tl("alert", "update", "-n", name, "--status", "resolved"));

        Assert.Equal("TL_VM_AttestationFailed", shown.GetProperty("properties").GetProperty("alertType").GetString());
        Assert.Equal("BaselineDeviation", shown.GetProperty("properties").GetProperty("extendedProperties").GetProperty("reason").GetString());
        Assert.Equal(("InProgress", "Resolved"), (Status(inProgress), Status(resolved)));
        Assert.Empty(Json(await Tl("alert", "list", "--status", "Active")).EnumerateArray());
        Assert.Empty(Json(await Tl("alert", "list", "--severity", "Low")).EnumerateArray());
        ExpectExit(await Tl("alert", "list", "--status", "Closed"), 2);
        ExpectExit(await Tl("alert", "update", "-n", name, "--status", "Closed"), 2);
        ExpectExit(await Tl("alert", "show", "-n", "absent"), 1);
        ExpectExit(await Tl("alert", "update", "-n", "absent", "--status", "Dismissed"), 1);
    }

    [Fact]
    public async Task Watch_PrintsEachEventAsOneCloudEventLine_StopsCleanly()
    {
        Json(await Tl("pricing", "create", "-n", "VirtualMachines", "--tier", "Standard"));
        (_, _, Guid vmId) = await _arm.CreateRunningVmAsync(ArmTestService.TrustedLaunch());
        await _arm.AddResultAsync(vmId, failure: "AkNotFromThisVm");
        await EvaluateAsync();
        string name = Json(await Tl("alert", "list")).EnumerateArray().Single().GetProperty("name").GetString()!;
        using var stdout = new StringWriter();
        TextWriter output = TextWriter.Synchronized(stdout);
        using var stderr = new StringWriter();
        using var stop = new CancellationTokenSource();
        Task<int> watch = TlCli.InvokeAsync(["security", "alert", "watch", "--server", Server], output, stderr, stop.Token);

        // The watch prints what happens after it connected: change the alert until it has printed a change.
        string[] statuses = ["InProgress", "Active"];
        for (int i = 0; i < 100 && !stdout.ToString().Contains("AlertUpdated", StringComparison.Ordinal); i++)
        {
            ExpectExit(await Tl("alert", "update", "-n", name, "--status", statuses[i % 2]), 0);
            await Task.Delay(100);
        }

        await stop.CancelAsync();
        Assert.Equal(0, await watch);
        string[] lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        foreach (string line in lines)
        {
            using JsonDocument cloudEvent = JsonDocument.Parse(line);
            Assert.Equal("1.0", cloudEvent.RootElement.GetProperty("specversion").GetString());
            Assert.Equal("Microsoft.Security.AlertUpdated", cloudEvent.RootElement.GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task SuppressionRule_CreateListShowDelete_DismissesTheMatchingAlert()
    {
        Json(await Tl("pricing", "create", "-n", "VirtualMachines", "--tier", "Standard"));
        (string group, _, Guid vmId) = await _arm.CreateRunningVmAsync(ArmTestService.TrustedLaunch());

        JsonElement created = Json(await Tl("alerts-suppression-rule", "create", "-n", "secure-boot-lab", "--alert-type", "TL_VM_AttestationFailed",
            "--reason", "Benign", "--comment", "lab VMs run with Secure Boot off on purpose", "--scope-in", $"entities.azureResource.resourceGroup={group}",
            "--scope-contains", "extendedProperties.reason=Deviation"));
        JsonElement[] listed = Json(await Tl("alerts-suppression-rule", "list", "--alert-type", "TL_VM_AttestationFailed")).EnumerateArray().ToArray();
        JsonElement shown = Json(await Tl("alerts-suppression-rule", "show", "-n", "secure-boot-lab"));
        await _arm.AddResultAsync(vmId, failure: "BaselineDeviation");
        await EvaluateAsync();

        Assert.Equal("Enabled", created.GetProperty("properties").GetProperty("state").GetString());
        Assert.Equal("secure-boot-lab", Assert.Single(listed).GetProperty("name").GetString());
        JsonElement[] allOf = shown.GetProperty("properties").GetProperty("suppressionAlertsScope").GetProperty("allOf").EnumerateArray().ToArray();
        Assert.Equal([group], allOf[0].GetProperty("in").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("Deviation", allOf[1].GetProperty("contains").GetString());
        Assert.Equal("Dismissed", Status(Assert.Single(Json(await Tl("alert", "list")).EnumerateArray().ToArray())));

        ExpectExit(await Tl("alerts-suppression-rule", "delete", "-n", "secure-boot-lab"), 0);
        ExpectExit(await Tl("alerts-suppression-rule", "show", "-n", "secure-boot-lab"), 1);
        Assert.Empty(Json(await Tl("alerts-suppression-rule", "list")).EnumerateArray());
    }

    [Theory]
    [InlineData("--scope-in", "entities.ip.address=1.2.3.4", "allOf[0].field")]
    [InlineData("--scope-in", "no-equals-sign", "FIELD=VALUE")]
    [InlineData("--scope-contains", "extendedProperties.reason=", "FIELD=VALUE")]
    public async Task SuppressionRule_UnknownFieldOrMalformedCondition_Exit2(string option, string condition, string said)
    {
        ToolResult refused = await Tl("alerts-suppression-rule", "create", "-n", "r", "--alert-type", "*", "--reason", "Other", option, condition);

        ExpectExit(refused, 2);
        Assert.Contains(said, refused.StandardError, StringComparison.Ordinal);
        Assert.Empty(Json(await Tl("alerts-suppression-rule", "list")).EnumerateArray());
    }

    [Fact]
    public async Task SecureScore_SubscriptionAndGroup_UnknownGroupExit1()
    {
        (string group, _, _) = await _arm.CreateRunningVmAsync(ArmTestService.TrustedLaunch(secureBoot: false));
        await EvaluateAsync();

        JsonElement score = Assert.Single(Json(await Tl("secure-score", "list", "-g", group)).EnumerateArray().ToArray()).GetProperty("properties").GetProperty("score");
        Assert.Single(Json(await Tl("secure-score", "list")).EnumerateArray());

        // Secure Boot (Low) Unhealthy, vTPM (Low) Healthy; the agent and health checks need Secure Boot: NotApplicable.
        Assert.Equal((1, 2), (score.GetProperty("current").GetDouble(), score.GetProperty("max").GetDouble()));
        ExpectExit(await Tl("secure-score", "list", "-g", "absent"), 1);
    }

    [Fact]
    public async Task Webhook_CreateListDelete_CredentialsInUrlRefusedWithoutRepeatingThem()
    {
        JsonElement created = Json(await Tl("webhook", "create", "-n", "soc", "--url", "http://127.0.0.1:9/events", "--alert-types", "TL_VM_AttestationFailed",
            "--min-severity", "Medium"));
        JsonElement listed = Assert.Single(Json(await Tl("webhook", "list")).EnumerateArray().ToArray());
        ToolResult withCredentials = await Tl("webhook", "create", "-n", "leaky", "--url", "https://soc:hunter2secret@example.com/hook");
        ToolResult ftp = await Tl("webhook", "create", "-n", "ftp", "--url", "ftp://example.com/hook");
        ExpectExit(await Tl("webhook", "delete", "-n", "soc"), 0);

        Assert.Equal("http://127.0.0.1:9/events", created.GetProperty("properties").GetProperty("url").GetString());
        Assert.Equal("soc", listed.GetProperty("name").GetString());
        ExpectExit(withCredentials, 2);
        Assert.DoesNotContain("hunter2secret", withCredentials.StandardError + withCredentials.StandardOutput, StringComparison.Ordinal);
        ExpectExit(ftp, 2);
        Assert.Empty(Json(await Tl("webhook", "list")).EnumerateArray());
    }

    [Fact]
    public async Task Server_NotAnsweringExit3_NotAnUrlExit2()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        int unreachable = await TlCli.InvokeAsync(["security", "assessment", "list", "--server", "http://127.0.0.1:9"], stdout, stderr);
        int notUrl = await TlCli.InvokeAsync(["security", "assessment", "list", "--server", "ftp://127.0.0.1"], stdout, stderr);

        Assert.Equal((3, 2), (unreachable, notUrl));
        Assert.Contains("does not answer", stderr.ToString(), StringComparison.Ordinal);
    }
}
