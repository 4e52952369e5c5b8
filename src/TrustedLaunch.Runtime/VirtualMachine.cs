using System.Security.Cryptography;
using TrustedLaunch.HostSystem;
using TrustedLaunch.HostSystem.Processes;
using TrustedLaunch.Runtime.Acceleration;
using TrustedLaunch.Runtime.Console;
using TrustedLaunch.Runtime.Firmware;
using TrustedLaunch.Runtime.Processes;
using TrustedLaunch.Runtime.Qemu;
using TrustedLaunch.Runtime.VTpm;
using TrustedLaunch.Storage;

namespace TrustedLaunch.Runtime;

/// <summary>
/// One running VM: its vTPM process, its QEMU process, a private copy of its variable store and the console verdict.
/// Every path out — guest power-off, graceful shutdown, kill, dispose, a failed start — stops both processes, writes the
/// variable store back when QEMU ran, and removes the run folder. By default QEMU and the vTPM are children that receive
/// SIGTERM from the kernel if this process dies (<see cref="ChildProcess"/>); with
/// <see cref="VirtualMachineOptions.PersistentRunDirectory"/> they run detached, outlive this process, and a later
/// supervisor adopts them (<see cref="AdoptAsync"/>). Disposing a detached VM only stops supervising it.
/// </summary>
public sealed class VirtualMachine : IAsyncDisposable
{
    private readonly VirtualMachineOptions _options;
    private readonly VmRunRecord _run;
    private readonly VTpmProcess? _vtpm;
    private readonly ISupervisedProcess _qemu;
    private readonly QmpClient? _qmp;
    private readonly ConsoleFollower _console;
    private readonly SlirpHostForwards _forwards;
    private readonly SemaphoreSlim _finishGate = new(1, 1);
    private bool _finished;
    private string? _vtpmLost;

    private VirtualMachine(VirtualMachineOptions options, string runDirectory, VmRunRecord run, VTpmProcess? vtpm, ISupervisedProcess qemu, QmpClient? qmp)
    {
        _options = options;
        RunDirectory = runDirectory;
        _run = run;
        _vtpm = vtpm;
        _qemu = qemu;
        _qmp = qmp;
        _console = new ConsoleFollower(run.ConsoleLog, qemu, run.StartedAt);
        _forwards = SlirpHostForwards.FromArguments(run.QemuArguments);
        if (vtpm is not null)
            _ = StopIfVTpmDiesAsync(vtpm);
    }

    public string RunDirectory { get; }

    /// <summary>QEMU and the vTPM outlive this process (<see cref="VirtualMachineOptions.PersistentRunDirectory"/>).</summary>
    public bool Detached => _options.PersistentRunDirectory is not null;

    public AcceleratorChoice Accelerator => _run.Accelerator;

    /// <summary>The UEFI firmware; null for a BIOS VM.</summary>
    public OvmfFirmware? Firmware => _run.Firmware;

    public IReadOnlyList<string> QemuArguments => _run.QemuArguments;

    public string ConsoleLog => _run.ConsoleLog;

    /// <summary>Host end of the <c>org.trustedlaunch.agent.0</c> port.</summary>
    public string AgentSocket => _run.AgentSocket;

    /// <summary>The private flash copy of the variable store; null for a BIOS VM.</summary>
    public string? VariableStoreCopy => _run.VariableStoreCopy;

    public int QemuProcessId => _qemu.Id;

    public int? VTpmProcessId => _vtpm?.Process.Id;

    /// <summary>When QEMU was started (by this supervisor or the one this VM was adopted from).</summary>
    public DateTime StartedAt => _run.StartedAt;

    /// <summary>Completes when QEMU has exited, with its exit code when known (a detached QEMU's goes to init).</summary>
    public Task<int?> Exited => _qemu.Ended;

    /// <summary>Set when the vTPM exited while QEMU still ran (the VM was then stopped): its exit code and stderr.</summary>
    public string? VTpmLost => Volatile.Read(ref _vtpmLost);

    /// <summary>The console as parsed so far.</summary>
    public ConsoleVerdictParser Console => _console.Parser;

    /// <summary>Starts the vTPM (when asked), then QEMU, and connects to QMP.</summary>
    public static async Task<VirtualMachine> StartAsync(VirtualMachineOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        IProgress<string>? progress = options.Progress;
        string disk = Path.GetFullPath(options.Disk);
        if (!File.Exists(disk))
            throw new VmRuntimeException(VmRuntimeFailure.BadInput, $"Disk image {options.Disk} does not exist.");
        DiskImageFormat format = options.DiskFormat ?? DiskImageFormats.Detect(disk);
        string qemuProgram = RuntimePrograms.Require(options.QemuProgram, "qemu-system-x86");
        (OvmfFirmware? firmware, byte[]? variableStore) = await FirmwareForAsync(options, cancellationToken).ConfigureAwait(false);

        AcceleratorChoice accelerator = options.Accelerator is Accelerator forced
            ? new AcceleratorChoice(forced, "forced by the caller")
            : AcceleratorProbe.Detect();
        progress?.Report($"accelerator: {accelerator.Accelerator.ToString().ToUpperInvariant()} ({accelerator.Reason})");

        bool detached = options.PersistentRunDirectory is not null;
        string runDirectory = detached ? PreparePersistentRunDirectory(options.PersistentRunDirectory!) : CreateRunDirectory();
        VTpmProcess? vtpm = null;
        ISupervisedProcess? qemu = null;
        try
        {
            string? varsCopy = null;
            if (variableStore is not null)
            {
                varsCopy = Path.Combine(runDirectory, "OVMF_VARS.fd");
                await File.WriteAllBytesAsync(varsCopy, variableStore, cancellationToken).ConfigureAwait(false);
            }

            string consoleLog = options.ConsoleLog is null ? Path.Combine(runDirectory, "console.log") : Path.GetFullPath(options.ConsoleLog);
            File.WriteAllBytes(consoleLog, []); // QEMU appends to nothing stale; the follower starts at offset 0
            string agentSocket = options.AgentSocket is null ? Path.Combine(runDirectory, "agent.sock") : Path.GetFullPath(options.AgentSocket);
            var spec = new QemuLaunchSpec
            {
                Accelerator = accelerator.Accelerator,
                Firmware = firmware,
                VariableStoreCopy = varsCopy,
                Disks = [new VmDisk(disk, format)],
                MemoryMiB = options.MemoryMiB,
                Cpus = options.Cpus,
                ConsoleLog = consoleLog,
                QmpSocket = Path.Combine(runDirectory, "qmp.sock"),
                AgentSocket = agentSocket,
                VTpmControlSocket = options.VTpm is null ? null : Path.Combine(runDirectory, "vtpm.ctrl"),
                Network = options.Network,
                Nics = options.Nics,
                NestedVirtualization = options.NestedVirtualization,
                ExitOnReboot = options.ExitOnReboot,
                Trace = options.QemuTrace,
                Name = options.Name,
                Uuid = options.Uuid,
            };
            IReadOnlyList<string> arguments = QemuCommandLine.Build(spec);
            var run = new VmRunRecord
            {
                Accelerator = accelerator,
                Firmware = firmware,
                QemuArguments = arguments,
                ConsoleLog = consoleLog,
                AgentSocket = agentSocket,
                QmpSocket = spec.QmpSocket,
                VariableStoreCopy = varsCopy,
                InitialVariableStoreLength = variableStore?.Length ?? 0,
                InitialVariableStoreSha256 = variableStore is null ? null : Convert.ToHexStringLower(SHA256.HashData(variableStore)),
                StartedAt = DateTime.UtcNow,
            };

            if (options.VTpm is not null)
            {
                progress?.Report($"vtpm: starting {options.VTpm.Program}");
                vtpm = await VTpmProcess.StartAsync(options.VTpm, runDirectory, cancellationToken, detached).ConfigureAwait(false);
                progress?.Report($"vtpm: ready (pid {vtpm.Process.Id})");
                if (detached)
                {
                    run = run with { VTpm = ((DetachedProcess)vtpm.Process).Identity };
                    run.Write(runDirectory); // a start cut short here leaves a vTPM the next supervisor stops
                }
            }

            progress?.Report($"qemu: starting ({(firmware is null ? "SeaBIOS" : Path.GetFileName(firmware.CodePath))}, Secure Boot " +
                $"{(firmware is not null && options.SecureBoot ? "on" : "off")}, vTPM {(vtpm is null ? "off" : "on")}, {options.MemoryMiB} MiB, {options.Cpus} CPU)");
            run = run with { StartedAt = DateTime.UtcNow };
            string qemuLog = Path.Combine(runDirectory, "qemu.log");
            qemu = detached ? RuntimePrograms.StartDetached(qemuProgram, arguments, qemuLog) : RuntimePrograms.Start(qemuProgram, arguments, qemuLog);
            if (qemu is DetachedProcess detachedQemu)
            {
                run = run with { Qemu = detachedQemu.Identity };
                run.Write(runDirectory);
            }

            ISupervisedProcess started = qemu;
            QmpClient qmp;
            try
            {
                qmp = await QmpClient.ConnectAsync(spec.QmpSocket, TimeSpan.FromSeconds(30), () => started.HasExited, cancellationToken).ConfigureAwait(false);
            }
            catch (VmRuntimeException) when (started.HasExited)
            {
                throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed,
                    $"QEMU exited{VTpmProcess.ExitText(await started.Ended.ConfigureAwait(false))} at start: {started.StandardErrorTail}");
            }

            return new VirtualMachine(options, runDirectory, run, vtpm, qemu, qmp);
        }
        catch
        {
            if (qemu is not null)
            {
                await qemu.KillAsync().ConfigureAwait(false);
                qemu.Dispose();
            }

            if (vtpm is not null)
                await vtpm.DisposeAsync().ConfigureAwait(false);
            DeleteRunDirectory(runDirectory);
            throw;
        }
    }

    /// <summary>
    /// Takes over a VM a previous supervisor started with <see cref="VirtualMachineOptions.PersistentRunDirectory"/>:
    /// reads its run record, watches its QEMU and vTPM again and reconnects to QMP. Null when no VM runs from that
    /// folder (no record, or a start that never reached QEMU, whose leftover vTPM is stopped). A VM whose QEMU has exited
    /// meanwhile is returned too: <see cref="WaitForExitAsync"/> then writes its variable store back and cleans up.
    /// </summary>
    /// <param name="options">The options the VM was started with (the variable store, the run folder, progress).</param>
    public static async Task<VirtualMachine?> AdoptAsync(VirtualMachineOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        string runDirectory = options.PersistentRunDirectory
            ?? throw new VmRuntimeException(VmRuntimeFailure.BadInput, "Only a VM started with a persistent run folder can be adopted.");
        VmRunRecord? run = VmRunRecord.Read(runDirectory);
        if (run is null)
            return null;
        VTpmProcess? vtpm = run.VTpm is ProcessIdentity vtpmIdentity ? VTpmProcess.Adopt(vtpmIdentity, runDirectory) : null;
        if (run.Qemu is not ProcessIdentity qemuIdentity)
        {
            if (vtpm is not null)
                await vtpm.DisposeAsync().ConfigureAwait(false);
            DeleteRunDirectory(runDirectory);
            return null;
        }

        DetachedProcess qemu = DetachedProcess.Adopt(qemuIdentity, Path.GetFileName(options.QemuProgram), Path.Combine(runDirectory, "qemu.log"));
        QmpClient? qmp = null;
        if (!qemu.HasExited)
        {
            try
            {
                qmp = await QmpClient.ConnectAsync(run.QmpSocket, TimeSpan.FromSeconds(5), () => qemu.HasExited, cancellationToken).ConfigureAwait(false);
            }
            catch (VmRuntimeException e)
            {
                // A QEMU that does not answer QMP can still be stopped (SIGTERM, SIGKILL); say so and go on.
                options.Progress?.Report($"qmp: {e.Message}");
            }
        }

        options.Progress?.Report($"adopted: QEMU pid {qemu.Id}{(qemu.HasExited ? " (exited)" : "")}{(vtpm is null ? "" : $", vTPM pid {vtpm.Process.Id}")}");
        return new VirtualMachine(options, runDirectory, run, vtpm, qemu, qmp);
    }

    /// <summary>Waits until the console shows a verdict, QEMU exits, or <paramref name="timeout"/> passes.</summary>
    public async Task<BootVerdict> WaitForVerdictAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Task<BootVerdict> verdict = _console.Verdict;
        Task finished = await Task.WhenAny(verdict, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false);
        if (finished == verdict)
            return await verdict.ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return _console.Conclude(BootOutcome.Timeout, $"no verdict within {timeout.TotalSeconds:0} s");
    }

    /// <summary>
    /// Graceful shutdown: ACPI power button (QMP <c>system_powerdown</c>), then QMP <c>quit</c> after
    /// <paramref name="grace"/>, then SIGKILL. Persists the variable store and stops the vTPM.
    /// </summary>
    public async Task<VmStopReport> ShutdownAsync(TimeSpan grace, CancellationToken cancellationToken = default)
    {
        string how = "already exited";
        if (!_qemu.HasExited)
        {
            how = "guest powered off (ACPI)";
            await TryQmpAsync("system_powerdown").ConfigureAwait(false);
            if (!await WaitExitAsync(grace, cancellationToken).ConfigureAwait(false))
            {
                how = "QEMU quit (guest ignored the power button)";
                if (_qmp is null)
                    _qemu.Terminate(); // QEMU quits on SIGTERM too
                else
                    await TryQmpAsync("quit").ConfigureAwait(false);
                if (!await WaitExitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false))
                {
                    how = "QEMU killed";
                    await _qemu.KillAsync().ConfigureAwait(false);
                }
            }
        }

        return await FinishAsync(how).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes the host forwards of the running VM's NIC <paramref name="nicIndex"/> (its slirp netdev) <paramref name="forwards"/>
    /// at once, through QMP (<see cref="SlirpHostForwards"/>): a forward no longer wanted is closed, a new one listens.
    /// False when nothing changed or the VM has no such NIC (NICs themselves are fixed at launch).
    /// </summary>
    public async Task<bool> SetHostForwardsAsync(int nicIndex, IReadOnlyList<QemuHostForward> forwards, CancellationToken cancellationToken = default)
    {
        if (_qmp is null || _qemu.HasExited)
            throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed, "The VM has no QMP connection (it has exited, or QEMU did not answer QMP when it was adopted).");
        return await _forwards.SetAsync(_qmp, nicIndex, forwards, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The host forwards in place on NIC <paramref name="nicIndex"/>.</summary>
    public IReadOnlyCollection<QemuHostForward> HostForwardsOf(int nicIndex) => _forwards.Of(nicIndex);

    /// <summary>
    /// Presses keys together on the VM's keyboard (QMP <c>send-key</c>, as <c>virsh send-key</c>), by QEMU key code
    /// (qapi/ui.json QKeyCode: <c>ctrl</c>, <c>alt</c>, <c>delete</c>, <c>sysrq</c>, <c>b</c>, …). Ctrl+Alt+Del makes a
    /// guest reboot itself: with no init to catch it, Linux restarts at once (kernel/reboot.c C_A_D).
    /// </summary>
    public async Task SendKeysAsync(IReadOnlyList<string> keyCodes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyCodes);
        if (keyCodes.Count == 0 || keyCodes.Any(k => k.Length == 0 || !k.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')))
            throw new VmRuntimeException(VmRuntimeFailure.BadInput, $"Key codes are QEMU QKeyCode names (ctrl, alt, delete, …), not '{string.Join('+', keyCodes)}'.");
        if (_qmp is null || _qemu.HasExited)
            throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed, "The VM has no QMP connection (it has exited, or QEMU did not answer QMP when it was adopted).");
        string keys = string.Join(',', keyCodes.Select(k => $"{{\"type\":\"qcode\",\"data\":\"{k}\"}}"));
        await _qmp.ExecuteAsync("send-key", $"{{\"keys\":[{keys}]}}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="whilePaused"/> with the guest paused at one instant (a crash-consistent point): QMP <c>stop</c> (QEMU
    /// drains and flushes the disk and the firmware's flash before it answers), the vTPM between commands
    /// (<see cref="VTpmProcess.WaitBetweenCommandsAsync"/>), then QMP <c>cont</c> whatever happened. The argument is the UEFI
    /// variable store as the guest has it now when it changed since the start (not yet written back into the VMGS), else null.
    /// </summary>
    public async Task<T> RunPausedAsync<T>(Func<byte[]?, T> whilePaused, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(whilePaused);
        if (_qmp is null || _qemu.HasExited)
            throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed, "The VM has no QMP connection (it has exited, or QEMU did not answer QMP when it was adopted).");
        await _qmp.ExecuteAsync("stop", cancellationToken).ConfigureAwait(false);
        try
        {
            if (_vtpm is not null)
                await _vtpm.WaitBetweenCommandsAsync(cancellationToken).ConfigureAwait(false);
            byte[]? variables = await ChangedVariableStoreAsync().ConfigureAwait(false);
            return whilePaused(variables);
        }
        finally
        {
            using var resume = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _qmp.ExecuteAsync("cont", resume.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Kills QEMU and the vTPM at once (SIGKILL), then cleans up as on every other path.</summary>
    public async Task<VmStopReport> KillAsync()
    {
        await _qemu.KillAsync().ConfigureAwait(false);
        return await FinishAsync("killed").ConfigureAwait(false);
    }

    /// <summary>Waits for the guest to end on its own (power-off, or a reboot with <c>ExitOnReboot</c>).</summary>
    public async Task<VmStopReport> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        await _qemu.Ended.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await FinishAsync("guest exited").ConfigureAwait(false);
    }

    /// <summary>
    /// Attached: kills the VM and cleans up. Detached: stops supervising it and leaves it running (a VM whose QEMU has
    /// exited is cleaned up as by <see cref="WaitForExitAsync"/>).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Detached && !_qemu.HasExited)
        {
            await _console.DisposeAsync().ConfigureAwait(false);
            if (_qmp is not null)
                await _qmp.DisposeAsync().ConfigureAwait(false);
            _qemu.Dispose();
            _vtpm?.Process.Dispose();
        }
        else
        {
            if (!_qemu.HasExited)
                await _qemu.KillAsync().ConfigureAwait(false);
            await FinishAsync("disposed").ConfigureAwait(false);
        }

        _finishGate.Dispose();
    }

    private async Task<VmStopReport> FinishAsync(string how)
    {
        await _finishGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_finished)
                return new VmStopReport(how, _qemu.Ended.IsCompleted ? _qemu.Ended.Result : null, false);
            _finished = true;
            int? exitCode = await _qemu.Ended.ConfigureAwait(false);
            await _console.DisposeAsync().ConfigureAwait(false);
            string? shutdownReason = null;
            if (_qmp is not null)
            {
                await _qmp.DrainEventsAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                shutdownReason = _qmp.ShutdownReason;
                await _qmp.DisposeAsync().ConfigureAwait(false);
            }

            _qemu.Dispose();

            // QEMU sends CMD_SHUTDOWN on exit, after which swtpm and tl-vtpm end by themselves (vtpm.md §2.5 step 6).
            if (_vtpm is not null)
            {
                if (await Task.WhenAny(_vtpm.Process.Ended, Task.Delay(TimeSpan.FromSeconds(3))).ConfigureAwait(false) != _vtpm.Process.Ended)
                    await _vtpm.StopAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
                await _vtpm.DisposeAsync().ConfigureAwait(false);
            }

            (bool persisted, string? persistFailure) = await PersistVariableStoreAsync().ConfigureAwait(false);
            DeleteRunDirectory(RunDirectory, keep: _options.ConsoleLog is null ? null : ConsoleLog);
            if (VTpmLost is not null)
                how = $"{how} (vTPM lost: {VTpmLost})";
            return new VmStopReport(how, exitCode, persisted, persistFailure, shutdownReason);
        }
        finally
        {
            _finishGate.Release();
        }
    }

    private async Task<(bool Persisted, string? Failure)> PersistVariableStoreAsync()
    {
        if (_options.VariableStore is not INonVolatileStore store || await ChangedVariableStoreAsync().ConfigureAwait(false) is not byte[] after)
            return (false, null);
        // The edk2 fault-tolerant-write layout keeps the flash consistent across power loss, so a store written up to a
        // kill is as good as after a clean power-off; the store's own Persist is atomic. The vTPM has exited by now, so a
        // VMGS-backed store can take the writer lock tl-vtpm held (VmgsGuestState).
        try
        {
            store.Persist(after);
            return (true, null);
        }
        catch (NonVolatileStoreException e)
        {
            _options.Progress?.Report($"variable store: {e.Message}");
            return (false, e.Message);
        }
    }

    /// <summary>The firmware's flash copy when the guest changed it since the start (it is written back at the end), else null.</summary>
    private async Task<byte[]?> ChangedVariableStoreAsync()
    {
        if (_run.VariableStoreCopy is not string copy || !_options.SecureBoot || _options.VariableStore is null || !File.Exists(copy))
            return null;
        byte[] now = await File.ReadAllBytesAsync(copy).ConfigureAwait(false);
        return now.Length != _run.InitialVariableStoreLength || Convert.ToHexStringLower(SHA256.HashData(now)) == _run.InitialVariableStoreSha256 ? null : now;
    }

    private static async Task<(OvmfFirmware? Firmware, byte[]? VariableStore)> FirmwareForAsync(VirtualMachineOptions options, CancellationToken cancellationToken)
    {
        if (options.Firmware == BootFirmware.Bios)
        {
            if (options.SecureBoot && options.VariableStore is not null)
                throw new VmRuntimeException(VmRuntimeFailure.BadInput, "A BIOS (Generation 1) VM has no UEFI variable store and no Secure Boot.");
            return (null, null);
        }

        INonVolatileStore store = options.VariableStore
            ?? throw new VmRuntimeException(VmRuntimeFailure.BadInput, "A UEFI VM needs its variable store (tl vmgs create or tl uefi vars create).");
        byte[] variableStore = store.Restore()
            ?? throw new VmRuntimeException(VmRuntimeFailure.BadInput, "The VM has no UEFI variable store; create one first (tl vmgs create or tl uefi vars create).");
        // Debian's plain OVMF builds also verify images once PK is enrolled, so "Secure Boot off" cannot be a firmware
        // choice alone: the VM boots the same SMM build from the firmware's key-less template (setup mode, nothing
        // enforced, as in the corpus capture ovmf4m-nokeys-sboff-crb), and its own store is left untouched.
        OvmfFirmware firmware = OvmfFirmware.Locate(secureBoot: true, variableStore.Length, options.FirmwareDirectory);
        if (!options.SecureBoot)
            variableStore = await File.ReadAllBytesAsync(firmware.VarsTemplatePath, cancellationToken).ConfigureAwait(false);
        return (firmware, variableStore);
    }

    /// <summary>
    /// A VM whose vTPM died cannot measure or attest any more, and its guest would see TPM errors it cannot explain: stop
    /// it. QEMU's own exit makes the vTPM end (CMD_SHUTDOWN), so a vTPM exit is only "first" if QEMU outlives it by a grace.
    /// </summary>
    private async Task StopIfVTpmDiesAsync(VTpmProcess vtpm)
    {
        int? code = await vtpm.Process.Ended.ConfigureAwait(false);
        if (await Task.WhenAny(_qemu.Ended, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false) == _qemu.Ended)
            return;
        Volatile.Write(ref _vtpmLost, $"{vtpm.Process.DisplayName} exited{VTpmProcess.ExitText(code)} while the VM ran: {vtpm.Process.StandardErrorTail.Trim()}");
        _options.Progress?.Report($"vtpm: exited{VTpmProcess.ExitText(code)} while the VM ran; stopping QEMU");
        await _qemu.KillAsync().ConfigureAwait(false);
    }

    private async Task TryQmpAsync(string command)
    {
        if (_qmp is null || _qemu.HasExited)
            return;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _qmp.ExecuteAsync(command, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is VmRuntimeException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // QEMU is going away or unresponsive; the next step (quit, then kill) takes over.
        }
    }

    private async Task<bool> WaitExitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        await Task.WhenAny(_qemu.Ended, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false) == _qemu.Ended;

    private static string CreateRunDirectory()
    {
        // Unix socket paths are limited to 107 bytes, so the run folder lives in /tmp rather than under TL_HOME.
        string path = Path.Combine(Path.GetTempPath(), $"tl-vm-{Guid.NewGuid():N}"[..18]);
        if (!OperatingSystem.IsLinux())
            throw new VmRuntimeException(VmRuntimeFailure.Environment, "The VM runtime needs Linux (QEMU/KVM, Unix sockets, prctl).");
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static string PreparePersistentRunDirectory(string path)
    {
        string full = Path.GetFullPath(path);
        if (!OperatingSystem.IsLinux())
            throw new VmRuntimeException(VmRuntimeFailure.Environment, "The VM runtime needs Linux (QEMU/KVM, Unix sockets, prctl).");
        if (full.Length + "/vtpm.ctrl".Length > 107)
            throw new VmRuntimeException(VmRuntimeFailure.BadInput, $"The run folder {full} is too long for Unix socket paths (107 bytes).");
        if (VmRunRecord.Read(full) is { Qemu: ProcessIdentity qemu } && qemu.IsRunning)
            throw new VmRuntimeException(VmRuntimeFailure.BadInput, $"A VM already runs from {full} (QEMU pid {qemu.Pid}); adopt it instead of starting another.");
        DeleteRunDirectory(full);
        Directory.CreateDirectory(full, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return full;
    }

    private static void DeleteRunDirectory(string path, string? keep = null)
    {
        try
        {
            if (keep is not null && keep.StartsWith(path + "/", StringComparison.Ordinal))
                return;
            if (Directory.Exists(path))
                Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // A socket still being torn down; the folder is in /tmp and holds no secrets.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }
}

/// <summary>
/// How a VM ended: the path taken, QEMU's exit code (when known), whether the variable store was written back (and if
/// writing it failed, why: the store then still holds the previous boot's variables), and QEMU's own word for why it
/// stopped (the SHUTDOWN event's reason, when the QMP connection saw it).
/// </summary>
public sealed record VmStopReport(string How, int? QemuExitCode, bool VariableStorePersisted, string? VariableStoreFailure = null, string? ShutdownReason = null)
{
    /// <summary>The guest asked for a reset (a reboot, or a kernel panic with <c>panic=</c>), which <c>-no-reboot</c> turned into an exit.</summary>
    public bool GuestReset => ShutdownReason == "guest-reset";
}
