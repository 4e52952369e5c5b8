using System.CommandLine;
using System.Runtime.InteropServices;
using TrustedLaunch.Runtime;
using TrustedLaunch.Runtime.Console;
using TrustedLaunch.Runtime.GuestState;
using TrustedLaunch.Runtime.Qemu;
using TrustedLaunch.Runtime.VTpm;
using TrustedLaunch.Storage;

namespace TrustedLaunch.Cli.Commands.Boot;

internal static class BootCommands
{
    public static Command Create()
    {
        var image = new Option<string>("--image") { Description = "The boot disk (raw or qcow2).", Required = true };
        var vmgs = new Option<string?>("--vmgs") { Description = "The VM's guest-state file (made by 'tl vmgs create'): the UEFI variable store comes out of it and goes back at shutdown, tl-vtpm keeps the vTPM in it, its VM id becomes the guest's SMBIOS UUID. Needs --kek-file." };
        var kekFile = new Option<string?>("--kek-file", "--key-file") { Description = "Host key-encryption key that unwraps --vmgs (the --key-file given to 'tl vmgs create')." };
        var vars = new Option<string?>("--vars") { Description = "UEFI variable store file (OVMF flash layout); written back atomically after the VM exits." };
        var vtpmState = new Option<string?>("--vtpm-state") { Description = "vTPM state file (tl-vtpm; with swtpm a linear state file). Default: a fresh throw-away TPM." };
        var vtpmKey = new Option<string?>("--vtpm-key") { Description = "Key file sealing --vtpm-state (tl-vtpm)." };
        var vtpmProgram = new Option<string?>("--vtpm-program") { Description = "swtpm-compatible vTPM program: tl-vtpm, swtpm or a path (default: tl-vtpm when installed and a state file is given, else swtpm)." };
        var secureBoot = new Option<string>("--secure-boot") { Description = "on: the secure-boot OVMF build (SMM) verifies images with the store's keys; off: the same build from the firmware's key-less store (nothing verified; the VM's store is left untouched).", DefaultValueFactory = _ => "on" };
        secureBoot.AcceptOnlyFromAmong("on", "off");
        var vtpm = new Option<string>("--vtpm") { Description = "on: give the VM a vTPM (TPM 2.0 CRB); off: no TPM.", DefaultValueFactory = _ => "on" };
        vtpm.AcceptOnlyFromAmong("on", "off");
        var memory = new Option<int>("--memory") { Description = "Memory in MiB.", DefaultValueFactory = _ => 1024 };
        var cpus = new Option<int>("--cpus") { Description = "Virtual CPUs.", DefaultValueFactory = _ => 1 };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for a verdict.", DefaultValueFactory = _ => 300 };
        var console = new Option<string?>("--console") { Description = "Keep the serial console log in this file." };
        var network = new Option<bool>("--network") { Description = "Give the VM a user-mode NIC (off by default)." };
        var keep = new Option<bool>("--keep-running") { Description = "After a 'booted' verdict keep the VM in the foreground until it powers off or Ctrl-C." };
        var qemuTrace = new Option<string?>("--qemu-trace") { Description = "QEMU trace events to log, comma-separated names or globs as 'qemu-system-x86_64 -trace help' lists them (e.g. tpm_*). Needs --qemu-trace-file." };
        var qemuTraceFile = new Option<string?>("--qemu-trace-file") { Description = "File QEMU appends the --qemu-trace events to, one timestamped line each (TID@SECONDS.MICROS:event args)." };
        var json = CliOptions.Json("Print the verdict as JSON.");
        var command = new Command("boot", ServiceVerbs.Description(ServiceVerb.Boot))
        {
            image, vmgs, kekFile, vars, vtpmState, vtpmKey, vtpmProgram, secureBoot, vtpm, memory, cpus, timeout, console, network, keep, qemuTrace, qemuTraceFile, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            QemuTrace? trace = Trace(parse.GetValue(qemuTrace), parse.GetValue(qemuTraceFile));
            if (parse.GetValue(vmgs) is string vmgsPath)
            {
                if (parse.GetValue(vars) is not null || parse.GetValue(vtpmState) is not null || parse.GetValue(vtpmKey) is not null)
                    throw new CliException(ExitCode.BadInput, "--vmgs holds the variable store and the vTPM; do not also give --vars, --vtpm-state or --vtpm-key.");
                string kek = parse.GetValue(kekFile) ?? throw new CliException(ExitCode.BadInput, "--vmgs needs --kek-file (the key the VMGS was created with).");
                VmgsGuestState state = VmgsGuestState.Open(vmgsPath, kek);
                string? program = parse.GetValue(vtpmProgram);
                if (program is not null && Path.GetFileName(program) == "swtpm")
                    throw new CliException(ExitCode.BadInput, "swtpm cannot keep its state in a VMGS; the VMGS's vTPM runs in tl-vtpm.");
                var fromVmgs = new VirtualMachineOptions
                {
                    Disk = parse.GetValue(image)!,
                    VariableStore = state.VariableStore,
                    SecureBoot = parse.GetValue(secureBoot) == "on",
                    VTpm = parse.GetValue(vtpm) == "on" ? state.VTpm(program) : null,
                    MemoryMiB = parse.GetValue(memory),
                    Cpus = parse.GetValue(cpus),
                    Network = parse.GetValue(network),
                    ConsoleLog = parse.GetValue(console),
                    Name = $"tl-{state.VmId}",
                    Uuid = state.VmUuid,
                    QemuTrace = trace,
                    Progress = new ProgressLines(parse.Error()),
                };
                fromVmgs.Progress.Report($"vmgs: {state.Path}: VM {state.VmId}{(state.VmUuid is null ? " (not a UUID: no -uuid)" : "")}, template {state.SecureBootTemplate ?? "unknown"}");
                return await BootAsync(parse, fromVmgs, TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(keep), parse.GetValue(json), cancellationToken)
                    .ConfigureAwait(false);
            }

            if (parse.GetValue(kekFile) is not null)
                throw new CliException(ExitCode.BadInput, "--kek-file goes with --vmgs.");
            string varsPath = parse.GetValue(vars) ?? throw new CliException(ExitCode.BadInput, "Give the VM's variable store with --vars (or --vmgs).");
            if (!File.Exists(varsPath))
                throw new CliException(ExitCode.BadInput, $"Variable store {varsPath} does not exist.");
            VTpmOptions? vtpmOptions = parse.GetValue(vtpm) == "on"
                ? ChooseVTpm(parse.GetValue(vtpmProgram), parse.GetValue(vtpmState), parse.GetValue(vtpmKey))
                : null;
            var options = new VirtualMachineOptions
            {
                Disk = parse.GetValue(image)!,
                VariableStore = new FileNonVolatileStore(varsPath),
                SecureBoot = parse.GetValue(secureBoot) == "on",
                VTpm = vtpmOptions,
                MemoryMiB = parse.GetValue(memory),
                Cpus = parse.GetValue(cpus),
                Network = parse.GetValue(network),
                ConsoleLog = parse.GetValue(console),
                QemuTrace = trace,
                Progress = new ProgressLines(parse.Error()),
            };
            return await BootAsync(parse, options, TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(keep), parse.GetValue(json), cancellationToken)
                .ConfigureAwait(false);
        });
        return command;
    }

    private static QemuTrace? Trace(string? patterns, string? file) => (patterns, file) switch
    {
        (null, null) => null,
        (null, _) => throw new CliException(ExitCode.BadInput, "--qemu-trace-file goes with --qemu-trace (the events to log)."),
        (_, null) => throw new CliException(ExitCode.BadInput, "--qemu-trace needs --qemu-trace-file (where QEMU writes the events)."),
        _ => QemuTrace.Create(patterns, file),
    };

    private static VTpmOptions ChooseVTpm(string? program, string? state, string? key)
    {
        if (state is not null && !File.Exists(state))
            throw new CliException(ExitCode.BadInput, $"vTPM state {state} does not exist (create it with 'tl vtpm manufacture').");
        if (key is not null && !File.Exists(key))
            throw new CliException(ExitCode.BadInput, $"vTPM key file {key} does not exist.");
        if (program is null)
            return VTpmOptions.Default(state, key);
        bool isSwtpm = Path.GetFileName(program) == "swtpm";
        if (!isSwtpm && (state is null || key is null))
            throw new CliException(ExitCode.BadInput, "tl-vtpm needs --vtpm-state and --vtpm-key.");
        return new VTpmOptions { Program = program, Flavor = isSwtpm ? VTpmFlavor.Swtpm : VTpmFlavor.TlVtpm, StatePath = state, KeyPath = key };
    }

    private static async Task<int> BootAsync(ParseResult parse, VirtualMachineOptions options, TimeSpan timeout, bool keepRunning, bool json, CancellationToken cancellationToken)
    {
        // SIGINT/SIGTERM: shut the VM down gracefully instead of dying with it (the children would get SIGTERM anyway).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        VirtualMachine vm = await VirtualMachine.StartAsync(options, stop.Token).ConfigureAwait(false);

        await using (vm.ConfigureAwait(false))
        {
            BootVerdict verdict;
            try
            {
                verdict = await vm.WaitForVerdictAsync(timeout, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                parse.Error().WriteLine("tl boot: interrupted, shutting the VM down");
                await vm.ShutdownAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
                return (int)ExitCode.VerificationFailed;
            }

            Print(parse.Out(), verdict, json);
            VmStopReport report;
            if (verdict.Outcome == BootOutcome.Booted && keepRunning)
            {
                parse.Error().WriteLine($"tl boot: running; agent port at {vm.AgentSocket}; Ctrl-C to shut down");
                try
                {
                    report = await vm.WaitForExitAsync(stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    report = await vm.ShutdownAsync(TimeSpan.FromSeconds(30), CancellationToken.None).ConfigureAwait(false);
                }
            }
            else
            {
                report = await vm.ShutdownAsync(TimeSpan.FromSeconds(verdict.Outcome == BootOutcome.Booted ? 20 : 1), CancellationToken.None).ConfigureAwait(false);
            }

            parse.Error().WriteLine($"tl boot: stopped ({report.How}); variable store " +
                (report.VariableStoreFailure is { } failure ? $"NOT written back: {failure}" : report.VariableStorePersisted ? "written back" : "unchanged"));
            if (report.VariableStoreFailure is not null && verdict.Outcome == BootOutcome.Booted)
                return (int)ExitCode.EnvironmentProblem;
            return verdict.Outcome == BootOutcome.Booted ? (int)ExitCode.Ok : (int)ExitCode.VerificationFailed;
        }
    }

    private static void Print(TextWriter output, BootVerdict verdict, bool json)
    {
        if (json)
        {
            CliJson.Write(verdict, output);
            return;
        }

        string outcome = verdict.Outcome switch
        {
            BootOutcome.Booted => "booted",
            BootOutcome.SecureBootViolation => "secure-boot-violation",
            BootOutcome.NoBootableDevice => "no-bootable-device",
            BootOutcome.Timeout => "timeout",
            _ => "failed",
        };
        output.WriteLine($"verdict: {outcome} ({verdict.Elapsed.TotalSeconds:0.0} s)");
        output.WriteLine($"  {verdict.Summary}");
        if (verdict.Refusal is SecureBootRefusal refusal)
            output.WriteLine($"  refused image: {refusal.Image}\n  refused by: {refusal.RefusedBy}: {refusal.Message}");
        foreach (var (key, value) in verdict.GuestFacts)
            output.WriteLine($"  guest {key}: {value}");
    }

    private sealed class ProgressLines(TextWriter error) : IProgress<string>
    {
        public void Report(string value) => error.WriteLine($"tl boot: {value}");
    }
}
