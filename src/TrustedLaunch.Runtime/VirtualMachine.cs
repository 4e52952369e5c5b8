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
/// variable store back when QEMU ran, and removes the run folder. If this process itself dies, the children receive
/// SIGTERM from the kernel (<see cref="ChildProcess"/>).
/// </summary>
public sealed class VirtualMachine : IAsyncDisposable
{
    private readonly VirtualMachineOptions _options;
    private readonly VTpmProcess? _vtpm;
    private readonly ChildProcess _qemu;
    private readonly QmpClient? _qmp;
    private readonly byte[] _initialVariableStore;
    private readonly ConsoleFollower _console;
    private readonly SemaphoreSlim _finishGate = new(1, 1);
    private readonly DateTime _startedAt;
    private bool _finished;
    private string? _vtpmLost;

    private VirtualMachine(VirtualMachineOptions options, string runDirectory, AcceleratorChoice accelerator, OvmfFirmware firmware,
        IReadOnlyList<string> arguments, VTpmProcess? vtpm, ChildProcess qemu, QmpClient? qmp, byte[] initialVariableStore,
        string consoleLog, string agentSocket, string variableStoreCopy, DateTime startedAt)
    {
        _options = options;
        RunDirectory = runDirectory;
        Accelerator = accelerator;
        Firmware = firmware;
        QemuArguments = arguments;
        _vtpm = vtpm;
        _qemu = qemu;
        _qmp = qmp;
        _initialVariableStore = initialVariableStore;
        ConsoleLog = consoleLog;
        AgentSocket = agentSocket;
        VariableStoreCopy = variableStoreCopy;
        _startedAt = startedAt;
        _console = new ConsoleFollower(consoleLog, qemu, startedAt);
        if (vtpm is not null)
            _ = StopIfVTpmDiesAsync(vtpm);
    }

    public string RunDirectory { get; }

    public AcceleratorChoice Accelerator { get; }

    public OvmfFirmware Firmware { get; }

    public IReadOnlyList<string> QemuArguments { get; }

    public string ConsoleLog { get; }

    /// <summary>Host end of the <c>org.trustedlaunch.agent.0</c> port.</summary>
    public string AgentSocket { get; }

    public string VariableStoreCopy { get; }

    public int QemuProcessId => _qemu.Id;

    public int? VTpmProcessId => _vtpm?.Process.Id;

    /// <summary>Completes with QEMU's exit code.</summary>
    public Task<int> Exited => _qemu.Exited;

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

        byte[] variableStore = options.VariableStore.Restore()
            ?? throw new VmRuntimeException(VmRuntimeFailure.BadInput, "The VM has no UEFI variable store; create one first (tl vmgs create or tl uefi vars create).");
        // Debian's plain OVMF builds also verify images once PK is enrolled, so "Secure Boot off" cannot be a firmware
        // choice alone: the VM boots the same SMM build from the firmware's key-less template (setup mode, nothing
        // enforced, as in the corpus capture ovmf4m-nokeys-sboff-crb), and its own store is left untouched.
        OvmfFirmware firmware = OvmfFirmware.Locate(secureBoot: true, variableStore.Length, options.FirmwareDirectory);
        if (!options.SecureBoot)
            variableStore = await File.ReadAllBytesAsync(firmware.VarsTemplatePath, cancellationToken).ConfigureAwait(false);

        AcceleratorChoice accelerator = options.Accelerator is Accelerator forced
            ? new AcceleratorChoice(forced, "forced by the caller")
            : AcceleratorProbe.Detect();
        progress?.Report($"accelerator: {accelerator.Accelerator.ToString().ToUpperInvariant()} ({accelerator.Reason})");

        string runDirectory = CreateRunDirectory();
        VTpmProcess? vtpm = null;
        ChildProcess? qemu = null;
        try
        {
            string varsCopy = Path.Combine(runDirectory, "OVMF_VARS.fd");
            await File.WriteAllBytesAsync(varsCopy, variableStore, cancellationToken).ConfigureAwait(false);
            string consoleLog = options.ConsoleLog is null ? Path.Combine(runDirectory, "console.log") : Path.GetFullPath(options.ConsoleLog);
            File.WriteAllBytes(consoleLog, []); // QEMU appends to nothing stale; the follower starts at offset 0
            string agentSocket = options.AgentSocket is null ? Path.Combine(runDirectory, "agent.sock") : Path.GetFullPath(options.AgentSocket);

            if (options.VTpm is not null)
            {
                progress?.Report($"vtpm: starting {options.VTpm.Program}");
                vtpm = await VTpmProcess.StartAsync(options.VTpm, runDirectory, cancellationToken).ConfigureAwait(false);
                progress?.Report($"vtpm: ready (pid {vtpm.Process.Id})");
            }

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
                VTpmControlSocket = vtpm?.ControlSocket,
                Network = options.Network,
                ExitOnReboot = options.ExitOnReboot,
                Name = options.Name,
                Uuid = options.Uuid,
            };
            IReadOnlyList<string> arguments = QemuCommandLine.Build(spec);
            progress?.Report($"qemu: starting ({Path.GetFileName(firmware.CodePath)}, Secure Boot {(options.SecureBoot ? "on" : "off")}, " +
                $"vTPM {(vtpm is null ? "off" : "on")}, {options.MemoryMiB} MiB, {options.Cpus} CPU)");
            DateTime startedAt = DateTime.UtcNow;
            qemu = RuntimePrograms.Start(qemuProgram, arguments, Path.Combine(runDirectory, "qemu.log"));
            ChildProcess started = qemu;
            QmpClient qmp;
            try
            {
                qmp = await QmpClient.ConnectAsync(spec.QmpSocket, TimeSpan.FromSeconds(30), () => started.HasExited, cancellationToken).ConfigureAwait(false);
            }
            catch (VmRuntimeException) when (started.HasExited)
            {
                throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed,
                    $"QEMU exited with code {await started.Exited.ConfigureAwait(false)} at start: {started.StandardErrorTail}");
            }

            return new VirtualMachine(options, runDirectory, accelerator, firmware, arguments, vtpm, qemu, qmp, variableStore,
                consoleLog, agentSocket, varsCopy, startedAt);
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

    /// <summary>Kills QEMU and the vTPM at once (SIGKILL), then cleans up as on every other path.</summary>
    public async Task<VmStopReport> KillAsync()
    {
        await _qemu.KillAsync().ConfigureAwait(false);
        return await FinishAsync("killed").ConfigureAwait(false);
    }

    /// <summary>Waits for the guest to end on its own (power-off, or a reboot with <c>ExitOnReboot</c>).</summary>
    public async Task<VmStopReport> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        await _qemu.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await FinishAsync("guest exited").ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_qemu.HasExited)
            await _qemu.KillAsync().ConfigureAwait(false);
        await FinishAsync("disposed").ConfigureAwait(false);
        _finishGate.Dispose();
    }

    private async Task<VmStopReport> FinishAsync(string how)
    {
        await _finishGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_finished)
                return new VmStopReport(how, _qemu.Exited.IsCompleted ? _qemu.Exited.Result : null, false);
            _finished = true;
            int exitCode = await _qemu.Exited.ConfigureAwait(false);
            await _console.DisposeAsync().ConfigureAwait(false);
            if (_qmp is not null)
                await _qmp.DisposeAsync().ConfigureAwait(false);
            _qemu.Dispose();

            // QEMU sends CMD_SHUTDOWN on exit, after which swtpm and tl-vtpm end by themselves (vtpm.md §2.5 step 6).
            if (_vtpm is not null)
            {
                if (await Task.WhenAny(_vtpm.Process.Exited, Task.Delay(TimeSpan.FromSeconds(3))).ConfigureAwait(false) != _vtpm.Process.Exited)
                    await _vtpm.StopAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
                await _vtpm.DisposeAsync().ConfigureAwait(false);
            }

            bool persisted = false;
            string? persistFailure = null;
            byte[] after = await File.ReadAllBytesAsync(VariableStoreCopy).ConfigureAwait(false);
            if (_options.SecureBoot && after.Length == _initialVariableStore.Length && !after.AsSpan().SequenceEqual(_initialVariableStore))
            {
                // The edk2 fault-tolerant-write layout keeps the flash consistent across power loss, so a store written
                // up to a kill is as good as after a clean power-off; the store's own Persist is atomic. The vTPM has
                // exited by now, so a VMGS-backed store can take the writer lock tl-vtpm held (VmgsGuestState).
                try
                {
                    _options.VariableStore.Persist(after);
                    persisted = true;
                }
                catch (NonVolatileStoreException e)
                {
                    persistFailure = e.Message;
                    _options.Progress?.Report($"variable store: {e.Message}");
                }
            }

            DeleteRunDirectory(RunDirectory, keep: _options.ConsoleLog is null ? null : ConsoleLog);
            if (VTpmLost is not null)
                how = $"{how} (vTPM lost: {VTpmLost})";
            return new VmStopReport(how, exitCode, persisted, persistFailure);
        }
        finally
        {
            _finishGate.Release();
        }
    }

    /// <summary>
    /// A VM whose vTPM died cannot measure or attest any more, and its guest would see TPM errors it cannot explain: stop
    /// it. QEMU's own exit makes the vTPM end (CMD_SHUTDOWN), so a vTPM exit is only "first" if QEMU outlives it by a grace.
    /// </summary>
    private async Task StopIfVTpmDiesAsync(VTpmProcess vtpm)
    {
        int code = await vtpm.Process.Exited.ConfigureAwait(false);
        if (await Task.WhenAny(_qemu.Exited, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false) == _qemu.Exited)
            return;
        Volatile.Write(ref _vtpmLost, $"{vtpm.Process.DisplayName} exited with code {code} while the VM ran: {vtpm.Process.StandardErrorTail.Trim()}");
        _options.Progress?.Report($"vtpm: exited (code {code}) while the VM ran; stopping QEMU");
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
        await Task.WhenAny(_qemu.Exited, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false) == _qemu.Exited;

    private static string CreateRunDirectory()
    {
        // Unix socket paths are limited to 107 bytes, so the run folder lives in /tmp rather than under TL_HOME.
        string path = Path.Combine(Path.GetTempPath(), $"tl-vm-{Guid.NewGuid():N}"[..18]);
        if (!OperatingSystem.IsLinux())
            throw new VmRuntimeException(VmRuntimeFailure.Environment, "The VM runtime needs Linux (QEMU/KVM, Unix sockets, prctl).");
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static void DeleteRunDirectory(string path, string? keep = null)
    {
        try
        {
            if (keep is not null && keep.StartsWith(path + "/", StringComparison.Ordinal))
                return;
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
/// How a VM ended: the path taken, QEMU's exit code, whether the variable store was written back (and if writing it
/// failed, why: the store then still holds the previous boot's variables).
/// </summary>
public sealed record VmStopReport(string How, int? QemuExitCode, bool VariableStorePersisted, string? VariableStoreFailure = null);
