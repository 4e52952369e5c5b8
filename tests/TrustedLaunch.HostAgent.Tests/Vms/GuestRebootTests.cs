using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.HostAgent.Tests.Lifecycle;
using TrustedLaunch.HostAgent.Tests.Platform;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.Images;
using TrustedLaunch.Runtime;
using TrustedLaunch.Runtime.Qemu;
using TrustedLaunch.Testing;
using Xunit.Abstractions;

namespace TrustedLaunch.HostAgent.Tests.Vms;

/// <summary>
/// A guest that reboots itself stays running, as in Azure (issue 13): the real supervisor runs a Trusted Launch VM from a
/// VMGS the real provisioner made; Ctrl+Alt+Del on its keyboard makes the guest kernel reset the machine (no init catches
/// it), which <c>-no-reboot</c> turns into a QEMU exit with reason <c>guest-reset</c>; the supervisor starts it again at
/// once — a new QEMU and tl-vtpm process, the same VMGS — and the guest boots a second time. No report in between says
/// Stopped or Starting. Two real TCG boots.
/// </summary>
[Collection(LifecycleHost.Collection)]
[IntegrationTest]
public sealed class GuestRebootTests(ITestOutputHelper output)
{
    [Fact]
    public async Task GuestReboot_KeepsTheVmRunning_NewQemuAndVTpmSameGuestState_SecondBootBoots()
    {
        DebianImage image = LifecycleHost.AgentImage();
        LifecycleHost host = LifecycleHost.Fresh();
        var vmId = Guid.NewGuid();
        VmRuntimeSpec spec = VTpmStateLockedTests.Spec(image.RawPath);
        var reports = new BlockingCollection<VmReport>();
        using var client = new ControlPlaneClient(host.Options.Server); // attestation calls fail (nothing listens); boots do not need it
        var context = new HostAgentContext(host.Options, client, NullLogger.Instance, host.HostKeyPath, () => host.Ca, reports.Add);
        await using var supervisor = new VmSupervisor(context, vmId);
        try
        {
            supervisor.Desire(Assignment(vmId, spec, version: 1, "Running"));
            Next(reports, r => r.Error is not null || r.BootVerdict == "booted", "first boot");
            VirtualMachine first = supervisor.RunningVm ?? throw new InvalidOperationException("no run after the first boot");
            (int qemu, int? vtpm) = (first.QemuProcessId, first.VTpmProcessId);
            output.WriteLine($"first boot: QEMU {qemu}, tl-vtpm {vtpm}");

            await first.SendKeysAsync(["ctrl", "alt", "delete"]);
            var between = new List<VmReport>();
            VmReport second = Next(reports, r => { between.Add(r); return r.Error is not null || r.PowerState == "Stopped" || (r.BootVerdict == "booted" && supervisor.RunningVm is { } vm && vm.QemuProcessId != qemu); },
                "second boot");

            Assert.Null(second.Error);
            Assert.Equal("Running", second.PowerState);
            Assert.DoesNotContain(between, r => r.PowerState is "Stopped" or "Starting" or "Stopping");
            VirtualMachine again = supervisor.RunningVm!;
            Assert.NotEqual(qemu, again.QemuProcessId);
            Assert.NotNull(again.VTpmProcessId);
            Assert.NotEqual(vtpm, again.VTpmProcessId);
            Assert.False(Directory.Exists($"/proc/{qemu}"), "the first boot's QEMU is gone");
            Assert.Equal(1, second.ObservedVersion); // the same assignment: nobody asked for this start
        }
        finally
        {
            supervisor.Desire(Assignment(vmId, spec, version: 2, "Deleted"));
            Next(reports, r => r.Deleted, "delete");
            Assert.Empty(PlatformHome.ProcessesOf(vmId));
        }
    }

    [Fact]
    public async Task GuestReboot_WhileNoAgentRuns_TheNextAgentStartsItAgain_RunningWithTheNewBootsVerdict_NeverStopped()
    {
        // -no-reboot turns the guest's reset into a QEMU exit that no agent sees (nobody holds QMP); the next agent adopts an
        // exited QEMU. The guest kernel's "reboot: Restarting system" on the console says it was a reboot, not a power-off.
        DebianImage image = LifecycleHost.AgentImage();
        LifecycleHost host = LifecycleHost.Fresh();
        var vmId = Guid.NewGuid();
        VmRuntimeSpec spec = VTpmStateLockedTests.Spec(image.RawPath);
        var reports = new BlockingCollection<VmReport>();
        using var client = new ControlPlaneClient(host.Options.Server);
        var context = new HostAgentContext(host.Options, client, NullLogger.Instance, host.HostKeyPath, () => host.Ca, reports.Add);
        VmSupervisor? supervisor = new VmSupervisor(context, vmId);
        try
        {
            supervisor.Desire(Assignment(vmId, spec, version: 1, "Running"));
            Next(reports, r => r.Error is not null || r.BootVerdict == "booted", "first boot");
            VirtualMachine first = supervisor.RunningVm ?? throw new InvalidOperationException("no run after the first boot");
            int qemu = first.QemuProcessId;
            string qmpSocket = VmRunRecord.Read(first.RunDirectory)!.QmpSocket;
            await supervisor.DisposeAsync(); // the agent goes; the VM runs on
            supervisor = null;

            await using (QmpClient qmp = await QmpClient.ConnectAsync(qmpSocket, TimeSpan.FromSeconds(10), () => false, CancellationToken.None))
                await qmp.ExecuteAsync("send-key", """{"keys":[{"type":"qcode","data":"ctrl"},{"type":"qcode","data":"alt"},{"type":"qcode","data":"delete"}]}""", CancellationToken.None);
            using (var exited = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
            {
                while (Alive(qemu))
                    await Task.Delay(200, exited.Token);
            }

            output.WriteLine($"QEMU {qemu} exited on the guest's reboot while no agent ran");
            while (reports.TryTake(out _))
            {
                // What the first agent said is not the question.
            }

            supervisor = new VmSupervisor(context, vmId);
            supervisor.Desire(Assignment(vmId, spec, version: 1, "Running"));
            var between = new List<VmReport>();
            VmSupervisor adopter = supervisor;
            VmReport second = Next(reports, r =>
            {
                between.Add(r);
                return r.Error is not null || r.PowerState == "Stopped" || (r.BootVerdict == "booted" && adopter.RunningVm is { } vm && vm.QemuProcessId != qemu);
            }, "boot after adoption");

            Assert.Null(second.Error);
            Assert.Equal(("Running", "booted"), (second.PowerState, second.BootVerdict));
            Assert.DoesNotContain(between, r => r.PowerState is "Stopped" or "Starting" or "Stopping");
            Assert.Equal(1, second.ObservedVersion); // the same assignment: nobody asked for this start
        }
        finally
        {
            supervisor ??= new VmSupervisor(context, vmId);
            supervisor.Desire(Assignment(vmId, spec, version: 2, "Deleted"));
            Next(reports, r => r.Deleted, "delete");
            await supervisor.DisposeAsync();
            Assert.Empty(PlatformHome.ProcessesOf(vmId));
        }
    }

    // Running, not gone and not a zombie waiting for its parent.
    private static bool Alive(int pid)
    {
        try
        {
            return !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }

    private static VmAssignment Assignment(Guid vmId, VmRuntimeSpec spec, long version, string power) => new()
    {
        VmId = vmId, ResourceId = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1", Name = "vm1",
        Version = version, DesiredPowerState = power, RestartGeneration = 0, Spec = spec,
    };

    private VmReport Next(BlockingCollection<VmReport> reports, Func<VmReport, bool> wanted, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        while (true)
        {
            VmReport report;
            try
            {
                report = reports.Take(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no report for {what} within 6 minutes");
            }

            output.WriteLine($"{what}: power {report.PowerState ?? "-"}, verdict {report.BootVerdict ?? "-"}, error {report.Error?.Code ?? "-"}");
            if (wanted(report))
                return report;
        }
    }
}
