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

    /// <summary>
    /// <c>--enable-secure-boot false</c> on a Trusted Launch VM: it boots without Secure Boot and the Secure Boot
    /// recommendation is Unhealthy (<c>SecureBootDisabled</c>) while vTPM is Healthy; the platform's remediation
    /// (deallocate → update → start) boots it with Secure Boot and the recommendation turns Healthy. A Generation 1 VM
    /// (BIOS image, Standard), booted beside it: Secure Boot and vTPM NotApplicable with the cause <c>Gen1VirtualMachine</c>.
    /// </summary>
    [Fact]
    public async Task SecureBootDisabledVm_RecommendationUnhealthy_RemediationBootsItWithSecureBootAndHealthy_Gen1NotApplicable()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-posture-sb");
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        try
        {
            BuildDefaultImage(home);
            ToolResult gen1Built = home.TlProcess(TimeSpan.FromMinutes(15), "image", "build", "debian-12", "--generation", "1");
            Assert.True(gen1Built.ExitCode == 0, gen1Built.ToString());
            home.StartServer();
            Assert.Equal(0, home.Tl("group", "create", "-n", Group).ExitCode);
            CreateTrustedLaunchVm(home, "sboff", "debian-12", secureBoot: false);
            ToolResult gen1 = home.Tl("vm", "create", "-g", Group, "-n", "gen1", "--image", "debian-12-gen1", "--size", "Standard_B1s", "--security-type", "Standard",
                "--os-disk-delete-option", "Delete", "--no-wait");
            Assert.True(gen1.ExitCode == 0, gen1.ToString());
            WaitRunning(home, "sboff");
            WaitRunning(home, "gen1");
            Dictionary<string, (string Code, string? Cause)> gen1Assessed = WaitForAssessments(home, "gen1",
                a => a.GetValueOrDefault(SecureBootKey).Code == "NotApplicable" && a.GetValueOrDefault(VTpmKey).Code == "NotApplicable", "Secure Boot and vTPM NotApplicable");
            Assert.Equal(("NotApplicable", "Gen1VirtualMachine"), gen1Assessed[SecureBootKey]);
            Assert.Equal(("NotApplicable", "Gen1VirtualMachine"), gen1Assessed[VTpmKey]);
            DeleteVm(home, "gen1");
            Step("Gen1 VM: NotApplicable, Gen1VirtualMachine");
            Assert.Contains("TL-GUEST: secure-boot=disabled", home.Tl("vm", "boot-log", "-g", Group, "-n", "sboff").StandardOutput, StringComparison.Ordinal);
            Step("booted without Secure Boot");

            Dictionary<string, (string Code, string? Cause)> before = WaitForAssessments(home, "sboff",
                a => a.GetValueOrDefault(SecureBootKey).Code == "Unhealthy" && a.GetValueOrDefault(VTpmKey).Code == "Healthy", "Secure Boot Unhealthy, vTPM Healthy");
            Assert.Equal("SecureBootDisabled", before[SecureBootKey].Cause);
            Step("Secure Boot recommendation Unhealthy");

            // The platform's fix: POST …/remediate, which deallocates, sets secureBootEnabled and starts the VM.
            string assessment = $"{VmResourceId(home, "sboff")}/providers/Microsoft.Security/assessments/{SecureBootKey}";
            using var http = new HttpClient { BaseAddress = new Uri(home.Url), Timeout = TimeSpan.FromSeconds(30) };
            using (HttpResponseMessage started = await http.PostAsync(new Uri(assessment + "/remediate?api-version=2021-06-01", UriKind.Relative), null))
                Assert.True(started.StatusCode == System.Net.HttpStatusCode.Accepted, $"{started.StatusCode}: {await started.Content.ReadAsStringAsync()}");
            JsonElement remediation = default;
            DateTime deadline = DateTime.UtcNow + BootTimeout;
            do
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                remediation = JsonDocument.Parse(await http.GetStringAsync(new Uri(assessment + "/remediation?api-version=2021-06-01", UriKind.Relative))).RootElement.Clone();
            }
            while (remediation.GetProperty("status").GetString() == "InProgress" && DateTime.UtcNow < deadline);
            output.WriteLine(remediation.ToString());
            Assert.True(remediation.GetProperty("status").GetString() == "Succeeded", $"{remediation}\n{home.Logs()}");
            Step("remediation succeeded");

            Assert.Equal(("running", "booted"), (home.InstanceView(Group, "sboff").Power, home.InstanceView(Group, "sboff").Verdict));
            Assert.True(home.TlJson("vm", "show", "-g", Group, "-n", "sboff").GetProperty("properties").GetProperty("securityProfile")
                .GetProperty("uefiSettings").GetProperty("secureBootEnabled").GetBoolean());
            Assert.Contains("TL-GUEST: secure-boot=enabled", home.Tl("vm", "boot-log", "-g", Group, "-n", "sboff").StandardOutput, StringComparison.Ordinal);
            WaitForAssessments(home, "sboff", a => a.GetValueOrDefault(SecureBootKey).Code == "Healthy", "Secure Boot Healthy");
            Step("rebooted with Secure Boot: recommendation Healthy");
            DeleteVm(home, "sboff");
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    /// <summary>
    /// Secure Boot turned off in a VM's own guest state between two boots (the key-less UEFI store imported into its
    /// VMGS with the host's key, as <c>TamperedBootAttestationTests</c> does outside the platform): the second boot's
    /// genuine evidence deviates from the baseline learned at the first, and the Standard plan raises a Medium
    /// attestation-failed alert, reason BaselineDeviation, naming PCR 7 and the removed keys. The image loads the kernel
    /// with <c>linuxefi</c>: Debian's <c>linux</c> skips the EFI stub without Secure Boot, and with it the event log.
    /// A webhook receiver gets the alert as a signed CloudEvent. Then the documented use of suppression: the alert
    /// resolved, a rule for this VM's PCR 7 deviation, and the next boot's alert is stored Dismissed by it, not delivered.
    /// </summary>
    [Fact]
    public void VmgsSecureBootTurnedOffBetweenBoots_MediumAlertBaselineDeviationNamingPcr7_SuppressionRuleDismissesTheNext()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-posture-vmgs");
        const string secret = "posture-platform-webhook-secret";
        using var receiver = new WebhookReceiver(secret);
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        try
        {
            string disk = Path.Combine(home.Path, "debian-12-linuxefi.qcow2");
            ToolResult built = home.TlProcess(TimeSpan.FromMinutes(15), "image", "build", "debian-12", "--grub-loader", "linuxefi", "--out", disk);
            Assert.True(built.ExitCode == 0, built.ToString());
            home.StartServer();
            ToolResult registered = home.Tl("image", "register", "--publisher", "PostureTests", "--offer", "debian-12-linuxefi", "--sku", "12-gen2",
                "--version", "1.0.0", "--file", disk);
            Assert.True(registered.ExitCode == 0, registered.ToString());
            Assert.Equal(0, home.Tl("group", "create", "-n", Group).ExitCode);
            Assert.Equal(0, home.Tl("security", "pricing", "create", "-n", "VirtualMachines", "--tier", "Standard").ExitCode);
            ToolResult webhook = home.Tl("security", "webhook", "create", "-n", "soc", "--url", receiver.Url, "--secret", secret,
                "--event-types", "Microsoft.Security.AlertCreated", "--alert-types", "TL_VM_AttestationFailed");
            Assert.True(webhook.ExitCode == 0, webhook.ToString());
            Step("image built and registered, plan Standard, webhook to a receiver");

            CreateTrustedLaunchVm(home, "tampered", "PostureTests:debian-12-linuxefi:12-gen2:1.0.0", secureBoot: true);
            WaitRunning(home, "tampered");
            PlatformHome.WaitUntil(() => home.InstanceView(Group, "tampered").Attestation == "pass", TimeSpan.FromMinutes(3),
                $"the first boot did not attest: {home.InstanceView(Group, "tampered")}\n{home.Logs()}");
            Assert.DoesNotContain(Alerts(home), a => Type(a) == "TL_VM_AttestationFailed");
            Step("first boot with Secure Boot passed (baseline learned)");

            // Between two boots: the VM's UEFI store replaced by the key-less one, in its VMGS, with the host's key.
            Assert.Equal(0, home.Tl("vm", "deallocate", "-g", Group, "-n", "tampered").ExitCode);
            var vmId = Guid.Parse(home.TlJson("vm", "show", "-g", Group, "-n", "tampered").GetProperty("properties").GetProperty("vmId").GetString()!);
            string keyless = Path.Combine(home.Path, "keyless-vars.fd");
            ToolResult vars = home.TlProcess(TimeSpan.FromMinutes(1), "uefi", "vars", "create", "--template", "empty", "--out", keyless);
            Assert.True(vars.ExitCode == 0, vars.ToString());
            ToolResult imported = home.TlProcess(TimeSpan.FromMinutes(1), "vmgs", "import", Path.Combine(home.Path, "vms", vmId.ToString("D"), "vm.vmgs"),
                "--entry", "uefi-nvram", "--in", keyless, "--key-file", Path.Combine(home.Path, "host", "host.kek"));
            Assert.True(imported.ExitCode == 0, imported.ToString());
            Assert.Equal(0, home.Tl("vm", "start", "-g", Group, "-n", "tampered").ExitCode);
            WaitRunning(home, "tampered");
            Assert.Contains("TL-GUEST: secure-boot=disabled", home.Tl("vm", "boot-log", "-g", Group, "-n", "tampered").StandardOutput, StringComparison.Ordinal);
            Step("second boot without Secure Boot");

            JsonElement alert = WaitForAlert(home, a => Type(a) == "TL_VM_AttestationFailed", "attestation-failed alert");
            output.WriteLine(alert.ToString());
            JsonElement properties = alert.GetProperty("properties");
            Assert.Equal("Medium", properties.GetProperty("severity").GetString());
            JsonElement extended = properties.GetProperty("extendedProperties");
            Assert.Equal("BaselineDeviation", extended.GetProperty("reason").GetString());
            Assert.Equal("7", extended.GetProperty("pcr").GetString());
            Assert.Equal("Early", extended.GetProperty("stage").GetString());
            string explanation = extended.GetProperty("explanation").GetString()!;
            Assert.StartsWith("PCR 7: Secure Boot disabled", explanation, StringComparison.Ordinal);
            Assert.Contains("KEK entry removed 'Microsoft Corporation KEK CA 2011'", explanation, StringComparison.Ordinal);
            Assert.Equal("fail", home.InstanceView(Group, "tampered").Attestation);
            Step("Medium alert: BaselineDeviation, PCR 7");

            // The receiver gets it as a signed CloudEvent.
            string alertId = alert.GetProperty("id").GetString()!;
            PlatformHome.WaitUntil(() => receiver.Deliveries.Any(d => d.Subject == alertId), TimeSpan.FromSeconds(60), $"no delivery of {alertId}\n{home.Logs()}");
            WebhookReceiver.Delivery delivered = receiver.Deliveries.First(d => d.Subject == alertId);
            Assert.True(delivered.SignatureVerified, "the delivery's webhook-signature verifies with the subscription's secret");
            Assert.Equal("Microsoft.Security.AlertCreated", delivered.Type);
            Assert.StartsWith("application/cloudevents+json", delivered.ContentType, StringComparison.Ordinal);
            Assert.Equal("1.0", delivered.CloudEvent.GetProperty("specversion").GetString());
            Assert.Equal("BaselineDeviation", delivered.CloudEvent.GetProperty("data").GetProperty("properties").GetProperty("extendedProperties").GetProperty("reason").GetString());
            Step("webhook: signed CloudEvent AlertCreated");

            // The documented use of suppression: this VM runs with Secure Boot off on purpose. The alert is resolved, a
            // rule scoped to the VM, the reason and PCR 7 is made, and the next boot's deviation is stored Dismissed.
            string alertName = alert.GetProperty("name").GetString()!;
            Assert.Equal(0, home.Tl("security", "alert", "update", "-n", alertName, "--status", "Resolved").ExitCode);
            ToolResult rule = home.Tl("security", "alerts-suppression-rule", "create", "-n", "lab-vm-sb-off", "--alert-type", "TL_VM_AttestationFailed",
                "--reason", "Benign", "--scope-in", $"entities.azureResource.resourceId={VmResourceId(home, "tampered")}",
                "--scope-in", "extendedProperties.reason=BaselineDeviation", "--scope-in", "extendedProperties.pcr=7", "--comment", "Secure Boot off on purpose");
            Assert.True(rule.ExitCode == 0, rule.ToString());
            Assert.Equal(0, home.Tl("vm", "deallocate", "-g", Group, "-n", "tampered").ExitCode);
            Assert.Equal(0, home.Tl("vm", "start", "-g", Group, "-n", "tampered").ExitCode);
            WaitRunning(home, "tampered");
            JsonElement suppressed = WaitForAlert(home, a => Type(a) == "TL_VM_AttestationFailed" && a.GetProperty("name").GetString() != alertName,
                "second attestation-failed alert");
            JsonElement suppressedProperties = suppressed.GetProperty("properties");
            Assert.Equal("Dismissed", suppressedProperties.GetProperty("status").GetString());
            Assert.Equal("lab-vm-sb-off", suppressedProperties.GetProperty("extendedProperties").GetProperty("suppressedBy").GetString());
            Assert.Equal("7", suppressedProperties.GetProperty("extendedProperties").GetProperty("pcr").GetString());
            Assert.DoesNotContain(Alerts(home), a => a.GetProperty("properties").GetProperty("status").GetString() == "Active" && Type(a) == "TL_VM_AttestationFailed");
            Thread.Sleep(TimeSpan.FromSeconds(5)); // the first alert reached the receiver within seconds
            string suppressedId = suppressed.GetProperty("id").GetString()!;
            Assert.DoesNotContain(receiver.Deliveries, d => d.Subject == suppressedId);
            Step("third boot: the deviation suppressed (stored Dismissed), not delivered");
            DeleteVm(home, "tampered");
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    /// <summary>
    /// A Trusted Launch VM whose image has no guest agent (<c>tl image build --no-agent</c>): the host's challenges go
    /// unanswered. The agent recommendation is Unhealthy (<c>AgentNotAnswering</c>) once it runs, and after the host's
    /// deadline (90 s) its agent-unresponsive report raises a Medium attestation-failed alert, reason AgentUnresponsive.
    /// </summary>
    [Fact]
    public void ImageWithoutGuestAgent_AgentRecommendationUnhealthy_ThenAgentUnresponsiveAlert()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-posture-noagent");
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        try
        {
            string disk = Path.Combine(home.Path, "debian-12-no-agent.qcow2");
            ToolResult built = home.TlProcess(TimeSpan.FromMinutes(15), "image", "build", "debian-12", "--no-agent", "--out", disk);
            Assert.True(built.ExitCode == 0, built.ToString());
            home.StartServer();
            ToolResult registered = home.Tl("image", "register", "--publisher", "PostureTests", "--offer", "debian-12-no-agent", "--sku", "12-gen2",
                "--version", "1.0.0", "--file", disk);
            Assert.True(registered.ExitCode == 0, registered.ToString());
            Assert.Equal(0, home.Tl("group", "create", "-n", Group).ExitCode);
            Assert.Equal(0, home.Tl("security", "pricing", "create", "-n", "VirtualMachines", "--tier", "Standard").ExitCode);
            CreateTrustedLaunchVm(home, "silent", "PostureTests:debian-12-no-agent:12-gen2:1.0.0", secureBoot: true);
            WaitRunning(home, "silent");
            Step("booted (no agent in the image)");

            Dictionary<string, (string Code, string? Cause)> assessed = WaitForAssessments(home, "silent",
                a => a.GetValueOrDefault(AgentKey).Code == "Unhealthy" && a.GetValueOrDefault(SecureBootKey).Code == "Healthy", "agent Unhealthy");
            Assert.Equal("AgentNotAnswering", assessed[AgentKey].Cause);
            Assert.Equal("Unhealthy", assessed[HealthKey].Code);
            Step("agent recommendation Unhealthy");

            JsonElement alert = WaitForAlert(home, a => Type(a) == "TL_VM_AttestationFailed", "attestation-failed alert");
            output.WriteLine(alert.ToString());
            JsonElement properties = alert.GetProperty("properties");
            Assert.Equal("Medium", properties.GetProperty("severity").GetString());
            Assert.Equal("AgentUnresponsive", properties.GetProperty("extendedProperties").GetProperty("reason").GetString());
            Assert.Equal("fail", home.InstanceView(Group, "silent").Attestation);
            Assert.Equal("Unhealthy", Assessments(home, "silent")[AgentKey].Code);
            Step("attestation-failed alert, reason AgentUnresponsive");
            DeleteVm(home, "silent");
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    private static string VmResourceId(PlatformHome home, string name) => home.TlJson("vm", "show", "-g", Group, "-n", name).GetProperty("id").GetString()!;

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
