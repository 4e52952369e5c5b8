using System.Diagnostics;
using System.Text.Json;
using TrustedLaunch.HostAgent.Tests.Platform;
using TrustedLaunch.Testing;
using Xunit.Abstractions;

namespace TrustedLaunch.HostAgent.Tests.Posture;

/// <summary>
/// Issue 14's posture on real TCG boots: <c>tl server</c> with its local host runs Trusted Launch VMs created through the
/// ARM API, their guest agents attest through the host, and the Microsoft.Security API shows what a security team sees —
/// the recommendations as the VM really is, and on the Standard plan the alerts its evidence calls for.
/// </summary>
[Collection(PlatformBoots.Name)]
[IntegrationTest]
public sealed class PosturePlatformTests(ITestOutputHelper output)
{
    private const string Group = "posture";
    private const string SecureBootKey = "69ad830b-d98c-b1cf-2158-9d69d38c7093";
    private const string VTpmKey = "861bbc73-0a55-8d1d-efc6-e92d9e1176e0";
    private const string AgentKey = "e94a7421-fc27-7a4d-e9ba-2ba01384cacd";
    private const string HealthKey = "b7604066-ed76-45f9-a5c1-c97e4812dc55";
    private static readonly TimeSpan BootTimeout = TimeSpan.FromMinutes(6);

    /// <summary>
    /// The Debian image's kernel refuses the unsigned <c>ttyprintk</c> module at boot and the guest agent reports it with
    /// its evidence. On the Free plan the VM's four recommendations are evaluated (all Healthy) and nothing is alerted; on
    /// Standard the next attestation raises one Low untrusted-module alert naming the module, unsigned.
    /// </summary>
    [Fact]
    public void UnsignedModule_FreePlanOnlyAssesses_StandardPlanRaisesLowAlertNamingTtyprintk()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-posture-module");
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        try
        {
            BuildDefaultImage(home);
            home.StartServer();
            Assert.Equal(0, home.Tl("group", "create", "-n", Group).ExitCode);
            Assert.Equal(0, home.Tl("security", "pricing", "create", "-n", "VirtualMachines", "--tier", "Free").ExitCode);
            CreateTrustedLaunchVm(home, "vm1", "debian-12", secureBoot: true);
            WaitRunning(home, "vm1");
            PlatformHome.WaitUntil(() => home.InstanceView(Group, "vm1").Attestation == "pass", TimeSpan.FromMinutes(3),
                $"vm1 did not attest: {home.InstanceView(Group, "vm1")}\n{home.Logs()}");
            Step("vm1 booted and attested (plan Free)");

            // Free: every recommendation evaluated from the real VM, no alert although the evidence carries the finding.
            WaitForAssessments(home, "vm1", a => a.Count >= 4 && new[] { SecureBootKey, VTpmKey, AgentKey, HealthKey }.All(k => a.GetValueOrDefault(k).Code == "Healthy"),
                "the four Trusted Launch recommendations Healthy");
            Thread.Sleep(TimeSpan.FromSeconds(3)); // longer than the engine's coalescing and change scan
            Assert.Empty(Alerts(home));
            Step("Free: assessments Healthy, no alert");

            // Standard: the next attestation's finding is an alert.
            Assert.Equal(0, home.Tl("security", "pricing", "create", "-n", "VirtualMachines", "--tier", "Standard").ExitCode);
            ToolResult attest = home.Tl("vm", "attest", "-g", Group, "-n", "vm1");
            Assert.True(attest.ExitCode == 0, attest.ToString());
            JsonElement alert = WaitForAlert(home, a => Type(a) == "TL_VM_UntrustedKernelModule", "an untrusted-module alert");
            output.WriteLine(alert.ToString());
            JsonElement properties = alert.GetProperty("properties");
            Assert.Equal("Low", properties.GetProperty("severity").GetString());
            Assert.Equal("Active", properties.GetProperty("status").GetString());
            JsonElement extended = properties.GetProperty("extendedProperties");
            Assert.Equal("ModuleRejected", extended.GetProperty("reason").GetString());
            Assert.Equal("ttyprintk", extended.GetProperty("module").GetString());
            Assert.Equal("unsigned", extended.GetProperty("signer").GetString());
            Assert.Contains("unsigned module", extended.GetProperty("kernelMessage").GetString()!, StringComparison.Ordinal);
            Assert.Contains("vm1", properties.GetProperty("compromisedEntity").GetString()!, StringComparison.Ordinal);
            Assert.DoesNotContain(Alerts(home), a => Type(a) == "TL_VM_AttestationFailed");
            Step("Standard: Low alert naming ttyprintk");
            DeleteVm(home, "vm1");
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    private static void BuildDefaultImage(PlatformHome home)
    {
        ToolResult built = home.TlProcess(TimeSpan.FromMinutes(15), "image", "build", "debian-12");
        Assert.True(built.ExitCode == 0, built.ToString());
    }

    private static void CreateTrustedLaunchVm(PlatformHome home, string name, string image, bool secureBoot)
    {
        ToolResult created = home.Tl("vm", "create", "-g", Group, "-n", name, "--image", image, "--size", "Standard_B1s", "--security-type", "TrustedLaunch",
            "--enable-secure-boot", secureBoot ? "true" : "false", "--enable-vtpm", "true", "--os-disk-delete-option", "Delete", "--no-wait");
        Assert.True(created.ExitCode == 0, created.ToString());
    }

    private static void WaitRunning(PlatformHome home, string name)
    {
        PlatformHome.WaitUntil(() => home.InstanceView(Group, name) is { Power: "running", Verdict: "booted" } or { Verdict: "failed" or "no-bootable-device" or "secure-boot-violation" },
            BootTimeout, $"{name} did not boot: {home.InstanceView(Group, name)}\n{home.Logs()}");
        Assert.Equal(("running", "booted"), (home.InstanceView(Group, name).Power, home.InstanceView(Group, name).Verdict));
    }

    private static void DeleteVm(PlatformHome home, string name)
    {
        var vmId = Guid.Parse(home.TlJson("vm", "show", "-g", Group, "-n", name).GetProperty("properties").GetProperty("vmId").GetString()!);
        Assert.Equal(0, home.Tl("vm", "delete", "-g", Group, "-n", name, "--yes").ExitCode);
        Assert.Empty(PlatformHome.ProcessesOf(vmId));
    }

    /// <summary>The VM's assessments by key: status code and cause.</summary>
    private static Dictionary<string, (string Code, string? Cause)> Assessments(PlatformHome home, string vm) =>
        home.TlJson("security", "assessment", "list", "-g", Group, "--vm", vm).EnumerateArray().ToDictionary(
            a => a.GetProperty("name").GetString()!,
            a =>
            {
                JsonElement status = a.GetProperty("properties").GetProperty("status");
                return (status.GetProperty("code").GetString()!, status.TryGetProperty("cause", out JsonElement c) ? c.GetString() : null);
            },
            StringComparer.Ordinal);

    private Dictionary<string, (string Code, string? Cause)> WaitForAssessments(PlatformHome home, string vm,
        Func<Dictionary<string, (string Code, string? Cause)>, bool> condition, string what)
    {
        Dictionary<string, (string Code, string? Cause)> last = [];
        PlatformHome.WaitUntil(() => condition(last = Assessments(home, vm)), TimeSpan.FromMinutes(3),
            $"{vm}: not {what}: {string.Join(", ", last.Select(kv => $"{kv.Key}={kv.Value}"))}\n{home.Logs()}");
        output.WriteLine($"{vm}: {string.Join(", ", last.Select(kv => $"{kv.Key}={kv.Value}"))}");
        return last;
    }

    private static IReadOnlyList<JsonElement> Alerts(PlatformHome home) => [.. home.TlJson("security", "alert", "list").EnumerateArray()];

    private static string? Type(JsonElement alert) => alert.GetProperty("properties").GetProperty("alertType").GetString();

    private static JsonElement WaitForAlert(PlatformHome home, Func<JsonElement, bool> match, string what)
    {
        JsonElement found = default;
        PlatformHome.WaitUntil(() => Alerts(home).FirstOrDefault(match) is { ValueKind: JsonValueKind.Object } a && (found = a).ValueKind == JsonValueKind.Object,
            TimeSpan.FromMinutes(3), $"no {what}: {string.Join("\n", Alerts(home))}\n{home.Logs()}");
        return found;
    }
}
