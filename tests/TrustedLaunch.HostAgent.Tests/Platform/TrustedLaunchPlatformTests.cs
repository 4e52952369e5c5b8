using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using TrustedLaunch.HostSystem.Processes;
using TrustedLaunch.Runtime;
using TrustedLaunch.Testing;
using Xunit.Abstractions;

namespace TrustedLaunch.HostAgent.Tests.Platform;

/// <summary>
/// One Trusted Launch VM through the whole platform, on one real TCG boot: <c>tl quickstart</c> starts <c>tl server</c> with
/// its local host and creates the VM through the API; it runs and its first attestation passes; an attestation on request
/// passes; the service restarts (SIGTERM) and its host adopts the running VM; a standalone <c>tl host</c> adopts it, is
/// SIGKILLed (the VM keeps running; once the host is lost the VM shows unknown, not stopped) and adopts it again; the vTPM
/// identity the API shows is what the vTPM itself serves; deleting the VM leaves no file and no process.
/// </summary>
[Collection(PlatformBoots.Name)]
[IntegrationTest]
public sealed class TrustedLaunchPlatformTests(ITestOutputHelper output)
{
    private const string Group = "quickstart";

    [Fact]
    public async Task TrustedLaunchVm_ThroughTheApi_RunsAttestsSurvivesServerAndHostRestartsAndDeletesCleanly()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-platform-tl");
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        try
        {
            // 1. The quick start: the service with its local host in the background, a Trusted Launch VM through the API.
            ToolResult quickstart = home.TlProcess(TimeSpan.FromMinutes(20), "quickstart", "--json", "--listen", home.Url);
            Step("quickstart done");
            output.WriteLine(quickstart.StandardError);
            Assert.True(quickstart.ExitCode == 0, quickstart.ToString());
            JsonElement report = JsonDocument.Parse(quickstart.StandardOutput).RootElement;
            string vm = report.GetProperty("name").GetString()!;
            var vmId = Guid.Parse(report.GetProperty("vmId").GetString()!);
            Assert.Equal("running", report.GetProperty("powerState").GetString());
            Assert.Equal("booted", report.GetProperty("bootVerdict").GetString());
            JsonElement facts = report.GetProperty("guestFacts");
            Assert.Equal("enabled", facts.GetProperty("secure-boot").GetString());
            Assert.Equal("2.0", facts.GetProperty("tpm").GetString());
            Assert.Equal(vmId.ToString(), facts.GetProperty("product-uuid").GetString(), ignoreCase: true);
            Assert.Equal("pass", report.GetProperty("attestation").GetProperty("verdict").GetString());
            Assert.Equal(vmId.ToString(), report.GetProperty("attestation").GetProperty("claims").GetProperty("x-ms-azurevm-vmid").GetString(), ignoreCase: true);
            Assert.Contains(report.GetProperty("vTpm").EnumerateArray(), k => k.GetProperty("role").GetString() == "ak-rsa2048");
            string folder = Path.Combine(home.Path, "vms", vmId.ToString("D"));
            Assert.True(File.Exists(Path.Combine(folder, "vm.vmgs")) && File.Exists(Path.Combine(folder, "disk.qcow2")));
            Assert.False(Directory.EnumerateFiles(folder, "*.kek").Any(), "the host key is never in a VM folder");
            int qemu = PlatformHome.RunRecord(vmId)!.Qemu!.Value.Pid;

            // 2. Attestation now, through the API: the host relays a fresh challenge.
            ToolResult attest = home.Tl("vm", "attest", "-g", Group, "-n", vm);
            Assert.True(attest.ExitCode == 0, attest.ToString());
            Assert.Equal("pass", JsonDocument.Parse(attest.StandardOutput).RootElement.GetProperty("verdict").GetString());
            Step("attested on request");

            // 3. The service restarts (SIGTERM, as systemd stops it): the VM keeps running and its host adopts it.
            ProcessIdentity quickstartServer = ReadPid(Path.Combine(home.Path, "quickstart", "server.pid"));
            using (DetachedProcess server = DetachedProcess.Adopt(quickstartServer, "tl server", null))
                await server.StopAsync(TimeSpan.FromSeconds(30));
            Assert.True(PlatformHome.RunRecord(vmId)!.Qemu!.Value.IsRunning, "the VM outlives the service");
            DetachedProcess restarted = home.StartServer("--host-liveness", "6");
            PlatformHome.WaitUntil(() => home.InstanceView(Group, vm) is { Power: "running", Verdict: "booted" }, TimeSpan.FromSeconds(60),
                $"not running after the restart: {home.InstanceView(Group, vm)}\n{home.Logs()}");
            Assert.Equal(qemu, PlatformHome.RunRecord(vmId)!.Qemu!.Value.Pid);
            Assert.Equal(0, home.Tl("vm", "attest", "-g", Group, "-n", vm).ExitCode);
            Step("service restarted, VM adopted and attested");

            // 4. A standalone host agent: the service without its local host, then tl host (same host name) adopts the VM.
            await restarted.StopAsync(TimeSpan.FromSeconds(30));
            home.StartServer("--no-local-host", "--host-liveness", "6");
            DetachedProcess host = home.Start("host", "host", "--server", home.Url);
            PlatformHome.WaitUntil(() => home.InstanceView(Group, vm).Power == "running" && host.StandardErrorTail.Contains("adopted", StringComparison.Ordinal),
                TimeSpan.FromSeconds(60), $"tl host did not adopt the VM\n{home.Logs()}");

            // SIGKILL of the agent: the VM keeps running; once the host is lost its VMs are unknown, not stopped.
            await host.KillAsync();
            Assert.True(PlatformHome.RunRecord(vmId)!.Qemu!.Value.IsRunning, "the VM outlives a SIGKILLed tl host");
            PlatformHome.WaitUntil(() => home.InstanceView(Group, vm).Power == "unknown", TimeSpan.FromSeconds(30), "the lost host's VM is not shown as unknown");
            Step("tl host SIGKILLed: VM unknown, still running");
            DetachedProcess again = home.Start("host", "host", "--server", home.Url);
            PlatformHome.WaitUntil(() => home.InstanceView(Group, vm).Power == "running" && again.StandardErrorTail.Contains("adopted", StringComparison.Ordinal),
                TimeSpan.FromSeconds(60), $"the new tl host did not adopt the VM\n{home.Logs()}");
            Assert.Equal(qemu, PlatformHome.RunRecord(vmId)!.Qemu!.Value.Pid);
            Assert.Equal(0, home.Tl("vm", "attest", "-g", Group, "-n", vm).ExitCode);
            Step("re-adopted after SIGKILL and attested");

            // 5. The identity the API shows is the one the vTPM serves (read from the VMGS once the VM is deallocated).
            JsonElement identity = home.TlJson("vm", "identity", "-g", Group, "-n", vm);
            Assert.Equal(0, home.Tl("vm", "deallocate", "-g", Group, "-n", vm).ExitCode);
            Assert.Equal("deallocated", home.InstanceView(Group, vm).Power);
            Assert.Empty(PlatformHome.ProcessesOf(vmId));
            IReadOnlyDictionary<string, X509Certificate2> served = VTpmCertificates.Read(Path.Combine(folder, "vm.vmgs"),
                Path.Combine(home.Path, "host", "host.kek"), VTpmCertificates.EkRsaIndex, VTpmCertificates.AkIndex);
            Assert.Equal(served[VTpmCertificates.EkRsaIndex].RawData, X509Certificate2.CreateFromPem(identity.GetProperty("encryptionKey").GetProperty("ekCert").GetString()!).RawData);
            Assert.Equal(served[VTpmCertificates.AkIndex].RawData, X509Certificate2.CreateFromPem(identity.GetProperty("signingKey").GetProperty("ekCert").GetString()!).RawData);
            Assert.Equal(served[VTpmCertificates.AkIndex].PublicKey.ExportSubjectPublicKeyInfo(),
                Convert.FromBase64String(string.Concat(identity.GetProperty("signingKey").GetProperty("ekPub").GetString()!.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal)))));
            Step("identity matches the vTPM's NV certificates");

            // 6. Delete (deleteOption Delete): no file and no process left.
            Assert.Equal(0, home.Tl("vm", "delete", "-g", Group, "-n", vm, "--yes").ExitCode);
            Assert.False(Directory.Exists(folder), "the VM folder is gone");
            Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), $"tl-run-{vmId:N}")), "the run folder is gone");
            Assert.Empty(PlatformHome.ProcessesOf(vmId));
            Assert.Equal(2, home.Tl("vm", "show", "-g", Group, "-n", vm).ExitCode); // 404 ResourceNotFound
            Step("deleted");
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    private static ProcessIdentity ReadPid(string file)
    {
        string[] fields = File.ReadAllText(file).Split(' ', StringSplitOptions.TrimEntries);
        return new ProcessIdentity(int.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture));
    }
}
