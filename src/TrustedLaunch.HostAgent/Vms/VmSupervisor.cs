using System.Diagnostics;
using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.HostAgent.GuestState;
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
/// asks again, as in Azure, while a guest reboot keeps it running (a fresh QEMU and vTPM process for the next boot).
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
    private int _resetsBeforeBoot;
    private bool _rebootedUnwatched;
    private readonly System.Collections.Concurrent.ConcurrentQueue<(Guid SnapshotId, TaskCompletionSource<SnapshotReport> Done)> _snapshots = new();

    public VmSupervisor(HostAgentContext host, Guid vmId)
    {
        _host = host;
        _folder = new VmFolder(host.Options.VmsDirectory, host.Options.RunRoot, vmId);
        _loop = Task.Run(RunAsync);
    }

    public Guid VmId => _folder.VmId;

    /// <summary>The VM of the current run, if one runs (for tests that act on the guest, e.g. make it reboot).</summary>
    internal VirtualMachine? RunningVm => _run?.Vm;

    /// <summary>Completes when the VM has been deleted from this host (or the supervisor was disposed).</summary>
    public Task Completion => _loop;

    /// <summary>The control plane's latest wish for the VM; the loop converges to it.</summary>
    public void Desire(VmAssignment assignment)
    {
        Volatile.Write(ref _desired, assignment);
        _wake.Release();
    }

    /// <summary>
    /// Takes a snapshot of the VM on its loop (between convergence steps, so no start or stop runs meanwhile): the OS disk and
    /// VMGS as one pair (<see cref="VmSnapshots.Take"/>). A running VM is refused (stop or deallocate it first).
    /// </summary>
    public Task<SnapshotReport> TakeSnapshotAsync(Guid snapshotId)
    {
        var done = new TaskCompletionSource<SnapshotReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        _snapshots.Enqueue((snapshotId, done));
        _wake.Release();
        return done.Task;
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
            // No agent held QMP, so QEMU's SHUTDOWN reason went unread: the guest kernel's last words on the console tell a reboot
            // (-no-reboot made it an exit) from a power-off.
            bool rebooted = stopped.GuestReset || KernelRestartLine.EndedInRestart(vm.Console.Lines);
            Log.Adopted(_host.Logger, VmId, vm.QemuProcessId, $"had exited: {stopped.How}{(rebooted ? " (the guest rebooted)" : "")}");
            if (_applied is { PowerState: "Running" } applied)
            {
                if (rebooted)
                {
                    // A guest reboot is not a stop: the first convergence starts it again as EndRunAsync would have (no Stopped, no Starting).
                    _rebootedUnwatched = true;
                    return;
                }

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
        bool guestReboot = false;
        if (_run is { } run && run.Vm.Exited.IsCompleted)
            guestReboot = await EndRunAsync(guestDidIt: !run.StopRequested, token).ConfigureAwait(false);
        if (_run is { FailurePending: true } failed)
            await HandleFailedBootAsync(failed).ConfigureAwait(false);
        while (_snapshots.TryDequeue(out var request))
        {
            try
            {
                request.Done.TrySetResult(await CopyPairAsync(request.SnapshotId, token).ConfigureAwait(false));
            }
            catch (Exception e)
            {
                request.Done.TrySetException(e); // reported as the snapshot's failure; the loop's guard logs it
                throw;
            }
        }

        if (Volatile.Read(ref _desired) is not VmAssignment desired)
            return false;
        if (_rebootedUnwatched && _run is null)
        {
            _rebootedUnwatched = false;
            guestReboot = true;
            Log.Action(_host.Logger, VmId, "rebooted by the guest while no agent ran; starting it again");
        }

        if (_run is { Verdict.Outcome: BootOutcome.Booted } booted)
            EnsureAttestation(booted, desired.Spec);
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

        if (_run is { } live && desired.DesiredPowerState == "Running" && !live.Vm.Exited.IsCompleted)
            await ApplyHostForwardsAsync(live, desired.Spec).ConfigureAwait(false);

        if (desired.Spec is { RestoreSnapshotId: Guid restoreId, RestoreVersion: long restoreVersion } && _applied is not null
            && restoreVersion > _applied.RestoredVersion && !RestoreSnapshot(desired, restoreId, restoreVersion))
            return false;

        if (_run is null)
            await ApplyKeyUpdateAsync(desired).ConfigureAwait(false);

        bool restart = _applied is not null && desired.RestartGeneration > _applied.RestartGeneration;
        if (_applied is not null && desired.Version <= _applied.Version && !restart && !guestReboot)
        {
            if (_run is not null)
                _run.Version = Math.Max(_run.Version, desired.Version);
            return false;
        }

        if (desired.DesiredPowerState == "Running")
            await RunVmAsync(desired, restart, token, guestReboot).ConfigureAwait(false);
        else
            await PowerOffAsync(desired).ConfigureAwait(false);
        return false;
    }

    private async Task RunVmAsync(VmAssignment desired, bool restart, CancellationToken token, bool guestReboot = false)
    {
        bool created = false;
        if (!_folder.Exists)
        {
            Report(desired.Version, "Starting");
            var clock = Stopwatch.StartNew();
            try
            {
                _newKeys = desired.Spec.SourceSnapshotId is Guid snapshot
                    ? VmProvisioner.CreateFromSnapshot(_folder, desired.Name, snapshot, _host.Options.SnapshotsDirectory, _host.HostKeyPath, _host.PlatformCa)
                    : desired.Spec.AttachDetachedDisk
                        ? VmProvisioner.AttachDetached(_folder, desired.Spec, _host.Options.DetachedDirectory, _host.HostKeyPath, _host.PlatformCa)
                        : VmProvisioner.Create(_folder, desired.Spec, _host.HostKeyPath, _host.PlatformCa);
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
            if (!guestReboot)
                Report(desired.Version, "Starting"); // a guest reboot is not a start: Azure shows the VM running throughout
            VmSnapshots.CompleteRestore(_folder); // a restore cut short: its whole pair or the old one, never a mix
            if (!await UpgradeGuestStateAsync(desired).ConfigureAwait(false))
                return;
        }

        await ApplyKeyUpdateAsync(desired).ConfigureAwait(false); // a key update recorded while the VM ran applies before this start
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

    /// <summary>
    /// A stopped VM's pair is copied under the VMGS writer lock; a running VM's while its guest is paused and its tl-vtpm is
    /// between commands (crash-consistent: what a power cut at that instant would leave), then the guest runs on.
    /// </summary>
    private async Task<SnapshotReport> CopyPairAsync(Guid snapshotId, CancellationToken token)
    {
        try
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            SnapshotManifest taken = _run is { } run
                ? await run.Vm.RunPausedAsync(variables => VmSnapshots.TakeRunning(_folder, _host.Options.SnapshotsDirectory, snapshotId,
                    _host.HostKeyPath, now, variables), token).ConfigureAwait(false)
                : VmSnapshots.Take(_folder, _host.Options.SnapshotsDirectory, snapshotId, _host.HostKeyPath, now);
            Log.Action(_host.Logger, VmId, $"snapshot {snapshotId} taken (disk {taken.Disk.Length} bytes{(taken.Vmgs is null ? "" : ", VMGS")}" +
                $"{(_run is null ? "" : $"; the guest was paused {clock.ElapsedMilliseconds} ms")})");
            return new SnapshotReport { SnapshotId = snapshotId, State = "Succeeded", DiskSizeBytes = taken.Disk.Length, VmgsSha256 = taken.Vmgs?.Sha256 };
        }
        catch (VmRuntimeException e)
        {
            Log.Failed(_host.Logger, VmId, $"pausing for snapshot {snapshotId}", "SnapshotFailed", e.Message);
            return Failed("SnapshotFailed", e.Message);
        }
        catch (VmLifecycleException e)
        {
            Log.Failed(_host.Logger, VmId, $"taking snapshot {snapshotId}", e.Code, e.Message);
            return Failed(e.Code, e.Message);
        }
        catch (IOException e)
        {
            Log.Failed(_host.Logger, VmId, $"taking snapshot {snapshotId}", "SnapshotFailed", e.Message);
            return Failed("SnapshotFailed", e.Message);
        }

        SnapshotReport Failed(string code, string message) => new() { SnapshotId = snapshotId, State = "Failed", Error = Error(code, message) };
    }

    /// <summary>
    /// Restores the VM's own snapshot (<see cref="VmSnapshots.Restore"/>: disk and VMGS together, one commit point, same identity),
    /// once per request. False when it was refused or failed (reported with the reason; the VM's files are as they were).
    /// </summary>
    private bool RestoreSnapshot(VmAssignment desired, Guid snapshotId, long restoreVersion)
    {
        AppliedState applied = _applied!;
        try
        {
            if (_run is not null)
            {
                throw new VmLifecycleException(VmLifecycleException.VmRunning,
                    $"Operation 'restore' is not allowed on virtual machine {VmId} since the VM is running. Stop or deallocate it first.");
            }

            VmSnapshots.Restore(_folder, VmSnapshots.Folder(_host.Options.SnapshotsDirectory, snapshotId), _host.HostKeyPath);
            _applied = applied with { RestoredVersion = restoreVersion, SucceededRestoreVersion = restoreVersion };
            _folder.WriteApplied(_applied);
            Log.Action(_host.Logger, VmId, $"restored from snapshot {snapshotId} (disk and VMGS together; same vTPM identity)");
            return true;
        }
        catch (Exception e) when (e is VmLifecycleException or IOException)
        {
            string code = e is VmLifecycleException lifecycle ? lifecycle.Code : "SnapshotRestoreFailed";
            Log.Failed(_host.Logger, VmId, $"restoring snapshot {snapshotId}", code, e.Message);
            _applied = applied with { Version = desired.Version, RestoredVersion = restoreVersion }; // asked once: not tried again
            if (_folder.Exists)
                _folder.WriteApplied(_applied);
            Report(desired.Version, _run is null ? applied.PowerState : "Running", error: Error(code, e.Message));
            return false;
        }
    }

    /// <summary>
    /// Applies the assignment's Secure Boot key update to the VMGS of the VM, which is not running (stopped, deallocated, or
    /// about to start): once per operation, its outcome kept in <c>applied.json</c> and reported (again, while the control
    /// plane still shows it pending). A refusal changes nothing and the VM starts with its old keys.
    /// </summary>
    private async Task ApplyKeyUpdateAsync(VmAssignment desired)
    {
        if (desired.SecureBootKeyUpdate is not { } update || _run is not null || !_folder.Exists)
            return;
        SecureBootKeyUpdateReport? report = _applied?.KeyUpdate is { } done && done.OperationId == update.OperationId ? done : null;
        if (report is null)
        {
            if (!_folder.HasVmgs)
                report = SecureBootKeyRollover.Report(update, "NotApplicable", "The VM has no VMGS (Generation 1): it has no Secure Boot keys.");
            else
            {
                try
                {
                    report = await Task.Run(() => SecureBootKeyRollover.Apply(_folder.Vmgs, _folder.Disk, _host.HostKeyPath, update)).ConfigureAwait(false);
                }
                catch (Exception e) when (e is TrustedLaunch.Images.ImageException or TrustedLaunch.Vmgs.Format.VmgsException or IOException
                    or InvalidDataException or FormatException or TrustedLaunch.Uefi.Format.UefiFormatException or UnauthorizedAccessException
                    or TrustedLaunch.Storage.SealingKeyException)
                {
                    report = SecureBootKeyRollover.Report(update, "Failed", $"The host could not apply the key update: {e.Message}");
                }
            }

            Log.Action(_host.Logger, VmId, $"Secure Boot key update {update.OperationId}: {report.Outcome}: {report.Message}");
            if (_applied is not null)
            {
                _applied = _applied with { KeyUpdate = report };
                _folder.WriteApplied(_applied);
            }
        }

        Report(_applied?.Version ?? 0, _applied?.PowerState is null or "Running" ? "Stopped" : _applied.PowerState, keyUpdate: report);
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
            how = $"OS disk and VMGS detached to {_folder.Detach(_host.Options.DetachedDirectory, desired.Spec.OsDiskName, desired.Spec.OsDiskId ?? VmId)}";
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
        if (verdict.Outcome == BootOutcome.Booted)
            Volatile.Write(ref _resetsBeforeBoot, 0);
        Log.Verdict(_host.Logger, VmId, Outcome(verdict.Outcome), verdict.Elapsed.TotalSeconds);
        if (verdict.Outcome is BootOutcome.Booted or BootOutcome.Timeout)
        {
            Report(run.Version, "Running", verdict);
            if (verdict.Outcome == BootOutcome.Booted && Volatile.Read(ref _desired) is { } desired)
                EnsureAttestation(run, desired.Spec);
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

    /// <summary>
    /// Starts the run's attestation loop once: when its boot verdict comes, or — for a VM adopted at the agent's start, whose
    /// verdict is re-read from its console before the control plane's first assignment arrives — with that assignment.
    /// </summary>
    private void EnsureAttestation(VmRun run, VmRuntimeSpec spec)
    {
        if (!Attested(spec))
            return;
        lock (run)
        {
            if (run.Attestation is not null || run.Token.IsCancellationRequested)
                return;
            run.Relay = new AttestationRelay(VmId, run.Vm.AgentSocket, _host.Client, _host.Options.AttestationDeadline, _host.Logger);
            run.Attestation = AttestLoopAsync(run);
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

    /// <summary>Cleans up a run whose QEMU has exited; true when the guest rebooted and the VM must start again at once.</summary>
    private async Task<bool> EndRunAsync(bool guestDidIt, CancellationToken token)
    {
        VmRun run = _run!;
        await run.DisposeAsync().ConfigureAwait(false);
        VmStopReport stopped = await run.Vm.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        _run = null;
        if (!guestDidIt)
            return false;
        if (stopped.GuestReset && _applied is { PowerState: "Running" } && Volatile.Read(ref _desired) is { DesiredPowerState: "Running" })
        {
            // QEMU runs with -no-reboot, so every boot starts from a fresh QEMU and a freshly started vTPM (the TPM Reset a
            // real platform reset is), with the UEFI variables the guest wrote already back in the VMGS. A guest that resets
            // before it ever boots (a panic loop) waits a little longer each time instead of spinning the host's CPU.
            int resets = Interlocked.Increment(ref _resetsBeforeBoot);
            TimeSpan pause = resets <= 1 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(30, 1 << Math.Min(resets - 1, 5)));
            Log.Action(_host.Logger, VmId, $"rebooted by the guest ({stopped.How}); starting it again{(pause > TimeSpan.Zero ? $" in {pause.TotalSeconds:0} s ({resets} resets without a boot)" : "")}");
            if (pause > TimeSpan.Zero)
                await Task.Delay(pause, token).ConfigureAwait(false);
            return true;
        }

        Log.Action(_host.Logger, VmId, $"ended by the guest: {stopped.How}{(stopped.ShutdownReason is string r ? $" ({r})" : "")}");
        // The guest powered off: Azure shows it stopped until its owner starts it again.
        _applied = _applied is null ? null : _applied with { PowerState = "Stopped" };
        Report(run.Version, "Stopped", run.Verdict ?? run.Vm.Console.Verdict);
        return false;
    }

    private void Apply(VmAssignment desired, string power, bool secureBoot)
    {
        _applied = new AppliedState
        {
            Version = desired.Version, RestartGeneration = desired.RestartGeneration, PowerState = power, SecureBoot = secureBoot,
            RestoredVersion = _applied?.RestoredVersion ?? 0,
            SucceededRestoreVersion = _applied?.SucceededRestoreVersion,
        };
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

    // NSG changes reach a running VM at once: each NIC's host forwards become the assignment's (QMP, no restart). A NIC
    // added or removed since the launch waits for the next start; a forward QEMU refuses (its port taken) is logged and
    // tried again at the next assignment.
    private async Task ApplyHostForwardsAsync(VmRun run, VmRuntimeSpec spec)
    {
        for (int i = 0; i < spec.NetworkInterfaces.Count; i++)
        {
            QemuNic nic = QemuNicOf(spec.NetworkInterfaces[i]);
            try
            {
                if (await run.Vm.SetHostForwardsAsync(i, nic.HostForwards).ConfigureAwait(false))
                    Log.HostForwardsChanged(_host.Logger, VmId, i, string.Join(", ", nic.HostForwards.Select(f => $"{f.HostAddress}:{f.HostPort}->{f.GuestPort}")));
            }
            catch (VmRuntimeException e)
            {
                Log.Failed(_host.Logger, VmId, "changing its host forwards", "HostForwardFailed", e.Message);
            }
        }
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

    private void Report(long version, string power, BootVerdict? verdict = null, ArmErrorDetail? error = null, SecureBootKeyUpdateReport? keyUpdate = null)
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
            SecureBootKeyUpdate = keyUpdate,
            RestoredVersion = _applied?.SucceededRestoreVersion,
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
