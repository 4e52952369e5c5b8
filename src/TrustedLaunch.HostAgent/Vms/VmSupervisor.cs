using System.Diagnostics;
using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.HostAgent.Attestation;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.HostAgent.Lifecycle;
using TrustedLaunch.Runtime;
using TrustedLaunch.Runtime.Console;
using TrustedLaunch.Runtime.GuestState;
using TrustedLaunch.Runtime.Qemu;

namespace TrustedLaunch.HostAgent.Vms;

/// <summary>
/// Converges one VM to what the control plane assigns it, one step at a time on its own loop: makes its folder on first
/// sight, starts and stops it (QEMU and tl-vtpm run detached and outlive the agent), restarts it when asked, deletes or
/// detaches its files, and reports each state. A restarted agent adopts the running VM from its run folder instead of
/// starting another. The assignment's version decides what is new: a VM the guest powered off stays off until its owner
/// asks again, as in Azure.
/// </summary>
internal sealed class VmSupervisor : IAsyncDisposable
{
    private readonly HostAgentContext _host;
    private readonly VmFolder _folder;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private VmAssignment? _desired;
    private AppliedState? _applied;
    private VmRun? _run;
    private long _attestationGeneration = -1;
    private IReadOnlyList<VTpmKeyReport>? _newKeys;

    public VmSupervisor(HostAgentContext host, Guid vmId)
    {
        _host = host;
        _folder = new VmFolder(host.Options.VmsDirectory, host.Options.RunRoot, vmId);
        _loop = Task.Run(RunAsync);
    }

    public Guid VmId => _folder.VmId;

    /// <summary>Completes when the VM has been deleted from this host (or the supervisor was disposed).</summary>
    public Task Completion => _loop;

    /// <summary>The control plane's latest wish for the VM; the loop converges to it.</summary>
    public void Desire(VmAssignment assignment)
    {
        Volatile.Write(ref _desired, assignment);
        _wake.Release();
    }

    /// <summary>Stops supervising; the VM itself keeps running (it outlives the agent, and the next one adopts it).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        if (_run is not null)
        {
            await _run.DisposeAsync().ConfigureAwait(false);
            await _run.Vm.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
        _wake.Dispose();
    }

    private async Task RunAsync()
    {
        CancellationToken token = _stop.Token;
        await GuardAsync("adoption", AdoptAsync).ConfigureAwait(false);
        while (!token.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            bool deleted = false;
            await GuardAsync("convergence", async () => deleted = await ConvergeAsync(token).ConfigureAwait(false)).ConfigureAwait(false);
            if (deleted)
                return;
        }
    }

    private async Task GuardAsync(string step, Func<Task> body)
    {
        try
        {
            await body().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // The agent is stopping; the VM keeps running.
        }
#pragma warning disable CA1031 // The loop is the VM's last line of defence: one failed step is logged and reported, the next wake tries again.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.Unexpected(_host.Logger, e, VmId);
            if (Volatile.Read(ref _desired) is VmAssignment desired)
                Report(desired.Version, _run is null ? "Stopped" : "Running", error: Error("HostAgentFailure", $"{step}: {e.Message}"));
        }
    }

    private async Task AdoptAsync()
    {
        if (!_folder.Exists)
            return;
        _applied = _folder.ReadApplied();
        VirtualMachine? vm = await VirtualMachine.AdoptAsync(LaunchOptions(spec: null, secureBoot: _applied?.SecureBoot ?? false), _stop.Token).ConfigureAwait(false);
        if (vm is null)
            return;
        if (vm.Exited.IsCompleted)
        {
            // It ended while no agent watched it: write its variable store back and clean up, as at any end.
            VmStopReport stopped = await vm.WaitForExitAsync().ConfigureAwait(false);
            Log.Adopted(_host.Logger, VmId, vm.QemuProcessId, $"had exited: {stopped.How}");
            if (_applied is { PowerState: "Running" } applied)
            {
                _applied = applied with { PowerState = "Stopped" };
                Report(applied.Version, "Stopped", vm.Console.Verdict);
            }

            return;
        }

        Log.Adopted(_host.Logger, VmId, vm.QemuProcessId, "running");
        Begin(new VmRun(vm, _applied?.Version ?? 0, createdThisRun: false));
    }

    /// <summary>One convergence step; true when the VM is gone from this host.</summary>
    private async Task<bool> ConvergeAsync(CancellationToken token)
    {
        if (_run is { } run && run.Vm.Exited.IsCompleted)
            await EndRunAsync(guestDidIt: !run.StopRequested).ConfigureAwait(false);
        if (_run is { FailurePending: true } failed)
            await HandleFailedBootAsync(failed).ConfigureAwait(false);

        if (Volatile.Read(ref _desired) is not VmAssignment desired)
            return false;
        if (desired.AttestationGeneration > _attestationGeneration)
        {
            if (_attestationGeneration >= 0)
                _run?.AttestNow();
            _attestationGeneration = desired.AttestationGeneration;
        }

        if (desired.DesiredPowerState == "Deleted")
        {
            await DeleteAsync(desired).ConfigureAwait(false);
            return true;
        }

        bool restart = _applied is not null && desired.RestartGeneration > _applied.RestartGeneration;
        if (_applied is not null && desired.Version <= _applied.Version && !restart)
        {
            if (_run is not null)
                _run.Version = Math.Max(_run.Version, desired.Version);
            return false;
        }

        if (desired.DesiredPowerState == "Running")
            await RunVmAsync(desired, restart, token).ConfigureAwait(false);
        else
            await PowerOffAsync(desired).ConfigureAwait(false);
        return false;
    }

    private async Task RunVmAsync(VmAssignment desired, bool restart, CancellationToken token)
    {
        bool created = false;
        if (!_folder.Exists)
        {
            Report(desired.Version, "Starting");
            var clock = Stopwatch.StartNew();
            try
            {
                _newKeys = VmProvisioner.Create(_folder, desired.Spec, _host.HostKeyPath, _host.PlatformCa);
            }
            catch (VmProvisioningException e)
            {
                Log.Failed(_host.Logger, VmId, "creating its files", e.Code, e.Message);
                Apply(desired, "Stopped", secureBoot: false);
                Report(desired.Version, "Stopped", error: Error(e.Code, e.Message));
                return;
            }

            created = true;
            Log.Created(_host.Logger, VmId, _folder.HasVmgs ? "VMGS" : "no VMGS (Generation 1)", clock.ElapsedMilliseconds);
        }

        if (_run is not null && restart)
        {
            Log.Action(_host.Logger, VmId, "restarting");
            await StopRunAsync("restart").ConfigureAwait(false);
        }

        if (_run is not null)
        {
            // Running already (an update that needs no restart, or a start of a running VM): applied at once.
            _run.Version = desired.Version;
            Apply(desired, "Running", _applied?.SecureBoot ?? false);
            if (_run.Verdict is { Outcome: BootOutcome.Booted })
                Report(desired.Version, "Running");
            return;
        }

        if (!created)
        {
            Report(desired.Version, "Starting");
            VmSnapshots.CompleteRestore(_folder); // a restore cut short: its whole pair or the old one, never a mix
            if (!await UpgradeGuestStateAsync(desired).ConfigureAwait(false))
                return;
        }

        bool secureBoot = desired.Spec.HyperVGeneration == "V2" && desired.Spec.SecurityType == "TrustedLaunch" && desired.Spec.SecureBootEnabled;
        VirtualMachine vm;
        try
        {
            vm = await VirtualMachine.StartAsync(LaunchOptions(desired.Spec, secureBoot), token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is VmRuntimeException or VmgsGuestStateException or TrustedLaunch.Storage.NonVolatileStoreException)
        {
            ArmErrorDetail failure = VmStartFailure.Describe(e, desired.Name, Attested(desired.Spec));
            Log.Failed(_host.Logger, VmId, "starting", failure.Code, e.Message);
            if (created)
                _folder.Delete(); // a failed create leaves nothing behind
            Apply(desired, "Stopped", secureBoot);
            Report(desired.Version, "Stopped", error: failure);
            return;
        }

        Log.Action(_host.Logger, VmId, $"started (QEMU pid {vm.QemuProcessId}{(vm.VTpmProcessId is int v ? $", tl-vtpm pid {v}" : "")}, {vm.Accelerator.Accelerator})");
        Apply(desired, "Running", secureBoot);
        Begin(new VmRun(vm, desired.Version, created));
    }

    /// <summary>
    /// A Generation 2 VM whose model became Trusted Launch (the upgrade, docs/upgrade.md) gets its Secure Boot keys and a
    /// fresh vTPM in its VMGS before this start; one that has a vTPM already keeps it. False when the upgrade failed (reported).
    /// </summary>
    private async Task<bool> UpgradeGuestStateAsync(VmAssignment desired)
    {
        if (desired.Spec is not { SecurityType: "TrustedLaunch", HyperVGeneration: "V2" } || !_folder.HasVmgs)
            return true;
        try
        {
            IReadOnlyList<VTpmKeyReport> keys = await Task.Run(() => VmProvisioner.UpgradeToTrustedLaunch(_folder, desired.Spec, _host.HostKeyPath, _host.PlatformCa))
                .ConfigureAwait(false);
            if (keys.Count > 0)
            {
                _newKeys = keys;
                Log.Action(_host.Logger, VmId, "upgraded to Trusted Launch: Secure Boot keys enrolled and a new vTPM manufactured in its VMGS");
            }

            return true;
        }
        catch (VmProvisioningException e) when (e.InnerException is TrustedLaunch.Vmgs.Format.VmgsException or TrustedLaunch.Storage.SealingKeyException)
        {
            // A VMGS that does not open is not an upgrade problem: the start opens it again and names why (VTpmStateLocked,
            // GuestStateLocked), and nothing in it was changed here.
            return true;
        }
        catch (VmProvisioningException e)
        {
            Log.Failed(_host.Logger, VmId, "upgrading its guest state", e.Code, e.Message);
            Apply(desired, "Stopped", secureBoot: false);
            Report(desired.Version, "Stopped", error: Error(e.Code, e.Message));
            return false;
        }
    }

    private async Task PowerOffAsync(VmAssignment desired)
    {
        string power = desired.DesiredPowerState; // Stopped or Deallocated
        if (_run is not null)
        {
            Report(desired.Version, power == "Deallocated" ? "Deallocating" : "Stopping");
            await StopRunAsync(power == "Deallocated" ? "deallocate" : "power off").ConfigureAwait(false);
        }

        if (_folder.Exists)
            Apply(desired, power, _applied?.SecureBoot ?? false);
        else
            _applied = new AppliedState { Version = desired.Version, RestartGeneration = desired.RestartGeneration, PowerState = power };
        Report(desired.Version, power);
    }

    private async Task DeleteAsync(VmAssignment desired)
    {
        if (_run is not null)
            await StopRunAsync("delete").ConfigureAwait(false);
        string how;
        if (desired.Spec.OsDiskDeleteOption == "Detach" && _folder.Exists)
            how = $"OS disk and VMGS detached to {_folder.Detach(_host.Options.DetachedDirectory, desired.Spec.OsDiskName)}";
        else
        {
            _folder.Delete();
            how = "OS disk and VMGS deleted";
        }

        Log.Deleted(_host.Logger, VmId, how);
        _host.Report(new VmReport { VmId = VmId, ObservedVersion = desired.Version, Deleted = true });
    }

    /// <summary>Watches a run: its boot verdict (then attestation) and its end.</summary>
    private void Begin(VmRun run)
    {
        _run = run;
        _ = WatchVerdictAsync(run);
        _ = WatchExitAsync(run);
    }

    private async Task WatchExitAsync(VmRun run)
    {
        try
        {
            await run.Vm.Exited.WaitAsync(run.Token).ConfigureAwait(false);
            _wake.Release();
        }
        catch (OperationCanceledException)
        {
            // The run ended another way.
        }
        catch (ObjectDisposedException)
        {
            // The supervisor is gone.
        }
    }

    private async Task WatchVerdictAsync(VmRun run)
    {
        BootVerdict verdict;
        try
        {
            verdict = await run.Vm.WaitForVerdictAsync(_host.Options.BootTimeout, run.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        run.Verdict = verdict;
        Log.Verdict(_host.Logger, VmId, Outcome(verdict.Outcome), verdict.Elapsed.TotalSeconds);
        if (verdict.Outcome is BootOutcome.Booted or BootOutcome.Timeout)
        {
            Report(run.Version, "Running", verdict);
            if (verdict.Outcome == BootOutcome.Booted && Volatile.Read(ref _desired) is { } desired && Attested(desired.Spec))
            {
                run.Relay = new AttestationRelay(VmId, run.Vm.AgentSocket, _host.Client, _host.Options.AttestationDeadline, _host.Logger);
                run.Attestation = AttestLoopAsync(run);
            }

            return;
        }

        // Refused or failed: the operation fails with the firmware's (or the kernel's) words.
        string code = verdict.Outcome switch
        {
            BootOutcome.SecureBootViolation => "SecureBootViolation",
            BootOutcome.NoBootableDevice => "NoBootableDevice",
            _ => "BootFailed",
        };
        Report(run.Version, run.Vm.Exited.IsCompleted ? "Stopped" : "Running", verdict, Error(code, verdict.Summary));
        run.FailurePending = true;
        try
        {
            _wake.Release();
        }
        catch (ObjectDisposedException)
        {
            // The supervisor is gone.
        }
    }

    /// <summary>At boot, then every interval (the extension object's, read anew each time), and when asked: attest.</summary>
    private async Task AttestLoopAsync(VmRun run)
    {
        while (!run.Token.IsCancellationRequested)
        {
            try
            {
                await run.Relay!.AttestAsync(run.Token).ConfigureAwait(false);
            }
            catch (ControlPlaneCallException e)
            {
                Log.Failed(_host.Logger, VmId, "attestation", e.Code ?? "ControlPlaneUnreachable", e.Message);
            }

            int seconds = Volatile.Read(ref _desired)?.Spec.Extensions.AttestationIntervalSeconds ?? ControlPlane.Services.VmPlanner.DefaultAttestationIntervalSeconds;
            await run.WaitForNextAttestationAsync(TimeSpan.FromSeconds(seconds)).ConfigureAwait(false);
        }
    }

    private async Task HandleFailedBootAsync(VmRun run)
    {
        run.FailurePending = false;
        if (!run.CreatedThisRun)
            return; // an existing VM that fails to boot stays as it is (its owner stops or fixes it)
        Log.Action(_host.Logger, VmId, "first boot failed: removing what the creation made");
        run.StopRequested = true;
        await run.DisposeAsync().ConfigureAwait(false);
        await run.Vm.KillAsync().ConfigureAwait(false);
        _run = null;
        _folder.Delete();
        Report(run.Version, "Stopped", run.Verdict, Error(run.Verdict?.Outcome == BootOutcome.SecureBootViolation ? "SecureBootViolation" : "BootFailed",
                run.Verdict?.Summary ?? "The first boot failed."));
    }

    private async Task StopRunAsync(string why)
    {
        VmRun run = _run!;
        run.StopRequested = true;
        Log.Action(_host.Logger, VmId, $"stopping ({why})");
        await run.DisposeAsync().ConfigureAwait(false);
        VmStopReport stopped = await run.Vm.ShutdownAsync(why == "delete" ? TimeSpan.FromSeconds(10) : _host.Options.ShutdownGrace).ConfigureAwait(false);
        Log.Action(_host.Logger, VmId, $"stopped: {stopped.How}{(stopped.VariableStorePersisted ? "; UEFI variables written back into the VMGS" : "")}");
        _run = null;
    }

    private async Task EndRunAsync(bool guestDidIt)
    {
        VmRun run = _run!;
        await run.DisposeAsync().ConfigureAwait(false);
        VmStopReport stopped = await run.Vm.WaitForExitAsync().ConfigureAwait(false);
        _run = null;
        if (!guestDidIt)
            return;
        Log.Action(_host.Logger, VmId, $"ended by the guest: {stopped.How}");
        // The guest powered off (or reset: one boot per launch): Azure shows it stopped until its owner starts it again.
        _applied = _applied is null ? null : _applied with { PowerState = "Stopped" };
        Report(run.Version, "Stopped", run.Verdict ?? run.Vm.Console.Verdict);
    }

    private void Apply(VmAssignment desired, string power, bool secureBoot)
    {
        _applied = new AppliedState { Version = desired.Version, RestartGeneration = desired.RestartGeneration, PowerState = power, SecureBoot = secureBoot };
        if (_folder.Exists)
            _folder.WriteApplied(_applied);
    }

    private VirtualMachineOptions LaunchOptions(VmRuntimeSpec? spec, bool secureBoot)
    {
        bool uefi = _folder.HasVmgs;
        VmgsGuestState? state = null;
        if (spec is not null && uefi)
            state = VmgsGuestState.Open(_folder.Vmgs, _host.HostKeyPath, requireVTpm: false);
        bool vtpm = spec is not null && Attested(spec);
        return new VirtualMachineOptions
        {
            Disk = _folder.Disk,
            Firmware = uefi ? BootFirmware.Uefi : BootFirmware.Bios,
            VariableStore = !uefi ? null : state?.VariableStore ?? VmgsGuestState.VariableStoreOf(_folder.Vmgs, _host.HostKeyPath),
            SecureBoot = uefi && secureBoot,
            VTpm = vtpm && state is not null ? state.VTpm(_host.Options.VTpmProgram) : null,
            MemoryMiB = spec?.MemoryInMB ?? 1024,
            Cpus = spec?.VCpus ?? 1,
            // The control plane refuses it with Trusted Launch; a Standard VM gets it when its extension asks.
            NestedVirtualization = spec is not null && spec.SecurityType != "TrustedLaunch" && spec.Extensions.NestedVirtualizationEnabled == true,
            Nics = spec is null ? [] : spec.NetworkInterfaces.Select(QemuNicOf).ToArray(),
            ConsoleLog = _folder.ConsoleLog,
            Accelerator = _host.Options.Accelerator,
            PersistentRunDirectory = _folder.RunDirectory,
            Name = $"tl-{VmId:D}",
            Uuid = VmId,
        };
    }

    // The guest gets the NIC's private IP by DHCP when its subnet is IPv4 and big enough for slirp (a /29 or larger).
    private static QemuNic QemuNicOf(VmNetworkInterfaceSpec nic)
    {
        bool addressed = nic.SubnetPrefix is string prefix && System.Net.IPNetwork.TryParse(prefix, out System.Net.IPNetwork network)
            && network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && network.PrefixLength <= 29;
        return new QemuNic(nic.MacAddress, nic.HostForwards.Select(f => new QemuHostForward(f.HostAddress, f.HostPort, f.GuestPort)).ToArray())
        {
            Network = addressed ? nic.SubnetPrefix : null,
            GuestAddress = addressed ? nic.PrivateIPAddress : null,
        };
    }

    private static bool Attested(VmRuntimeSpec spec) => spec.SecurityType == "TrustedLaunch" && spec.VTpmEnabled && spec.HyperVGeneration == "V2";

    private void Report(long version, string power, BootVerdict? verdict = null, ArmErrorDetail? error = null)
    {
        verdict ??= _run?.Verdict;
        IReadOnlyList<VTpmKeyReport>? keys = _newKeys;
        if (power == "Running" && keys is not null)
            _newKeys = null; // sent with the first Running report (and kept by the control plane)
        _host.Report(new VmReport
        {
            VmId = VmId,
            ObservedVersion = version,
            PowerState = power,
            BootVerdict = verdict is null ? null : Outcome(verdict.Outcome),
            BootVerdictDetail = verdict?.Summary,
            ConsoleTail = File.Exists(_folder.ConsoleLog) ? ConsoleTail.Read(_folder.ConsoleLog) : null,
            Error = error,
            VTpmKeys = keys,
        });
    }

    private static ArmErrorDetail Error(string code, string message) => new() { Code = code, Message = message };

    private static string Outcome(BootOutcome outcome) => outcome switch
    {
        BootOutcome.Booted => "booted",
        BootOutcome.SecureBootViolation => "secure-boot-violation",
        BootOutcome.NoBootableDevice => "no-bootable-device",
        BootOutcome.Timeout => "timeout",
        _ => "failed",
    };
}
