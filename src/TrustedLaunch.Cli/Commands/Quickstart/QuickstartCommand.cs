using System.CommandLine;
using System.Runtime.InteropServices;
using TrustedLaunch.Cli.Commands.Boot;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Images;
using TrustedLaunch.Runtime;
using TrustedLaunch.Runtime.Console;
using TrustedLaunch.Runtime.GuestState;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.Cli.Commands.Quickstart;

/// <summary>
/// <c>tl quickstart</c>: from a fresh machine to an attested Trusted Launch VM in one command — packages, the Debian guest
/// image, the platform PKI, a new VM (KEK, VMGS from the Microsoft template, disk overlay), the boot with Secure Boot and
/// tl-vtpm, the attestation through the guest agent, a report, and a graceful shutdown (or <c>--keep</c>).
/// </summary>
internal static class QuickstartCommand
{
    private static readonly TimeSpan AttestTimeout = TimeSpan.FromSeconds(120);

    public static Command Create()
    {
        var keep = new Option<bool>("--keep") { Description = "Leave the VM running after the report (Ctrl-C shuts it down)." };
        var json = CliOptions.Json("Print the report as JSON (progress stays on stderr).");
        var memory = new Option<int>("--memory") { Description = "Memory in MiB.", DefaultValueFactory = _ => 1024 };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the boot verdict.", DefaultValueFactory = _ => 300 };
        var noAttest = new Option<bool>("--no-attest") { Description = "Skip the attestation step." };
        var command = new Command("quickstart",
            "Install missing packages, build the Debian guest, create the platform CA (TL_HOME/pki) and a VM (TL_HOME/vms/<id>), boot it with " +
            "Trusted Launch, attest it, report. Exit 0 booted and attested, 1 boot refused/failed or attestation failed, 2 bad input, 3 environment.")
        {
            keep, json, memory, timeout, noAttest,
        };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, parse.GetValue(keep), parse.GetValue(json), parse.GetValue(memory),
            TimeSpan.FromSeconds(parse.GetValue(timeout)), !parse.GetValue(noAttest), cancellationToken).ConfigureAwait(false));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, bool keep, bool json, int memoryMiB, TimeSpan timeout, bool attest, CancellationToken cancellationToken)
    {
        TextWriter error = parse.Error();
        void Progress(string line) => error.WriteLine($"tl quickstart: {line}");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });

        QuickstartSetup.EnsurePackages(Progress, error);
        DebianImage image = QuickstartSetup.EnsureImage(Progress);
        FilePlatformCa pki = QuickstartSetup.EnsurePki(TlHome.Pki, Progress);
        QuickstartVm created = QuickstartSetup.CreateVm(TlHome.Vms, pki.Directory, image, Progress, error);
        VmgsGuestState state = VmgsGuestState.Open(created.VmgsPath, created.KekPath);
        string agentSocket = Path.Combine(created.Directory, "agent.sock");
        var options = new VirtualMachineOptions
        {
            Disk = created.DiskPath,
            VariableStore = state.VariableStore,
            VTpm = state.VTpm(program: null),
            MemoryMiB = memoryMiB,
            ConsoleLog = Path.Combine(created.Directory, "console.log"),
            AgentSocket = agentSocket.Length < 100 ? agentSocket : null, // sun_path holds 107 bytes; else the run folder
            Name = $"tl-{created.Id}",
            Uuid = created.Id,
            Progress = new ProgressLines(Progress),
        };

        VirtualMachine vm = await VirtualMachine.StartAsync(options, stop.Token).ConfigureAwait(false);

        await using (vm.ConfigureAwait(false))
        {
            Progress($"booting VM {created.Id} (console: {options.ConsoleLog})");
            BootVerdict verdict = await vm.WaitForVerdictAsync(timeout, stop.Token).ConfigureAwait(false);
            Progress($"verdict: {verdict.Outcome}: {verdict.Summary}");
            QuickstartAttestationReport? attestation = null;
            string? skipped = null;
            if (verdict.Outcome != BootOutcome.Booted)
                skipped = "the VM did not boot";
            else if (!attest)
                skipped = "--no-attest";
            else if (!verdict.GuestFacts.TryGetValue("agent", out string? agent) || !agent.StartsWith("started", StringComparison.Ordinal))
                skipped = "the image has no guest agent";
            else
                attestation = await QuickstartAttestation.RunAsync(vm.AgentSocket, created.Id, pki, AttestTimeout, Progress, stop.Token).ConfigureAwait(false);

            var report = new QuickstartReport
            {
                VmId = created.Id,
                VmDirectory = created.Directory,
                Vmgs = created.VmgsPath,
                Disk = created.DiskPath,
                Image = image.RawPath,
                Accelerator = $"{vm.Accelerator.Accelerator.ToString().ToUpperInvariant()} ({vm.Accelerator.Reason})",
                VTpm = QuickstartReport.ReadVTpmKeys(created.VTpm),
                Verdict = verdict,
                Attestation = attestation,
                AttestationSkipped = skipped,
                AgentSocket = vm.AgentSocket,
            };

            if (keep && verdict.Outcome == BootOutcome.Booted)
            {
                Print(parse.Out(), report, json);
                Progress($"running; agent port at {vm.AgentSocket}; Ctrl-C shuts the VM down (its VMGS stays in {created.Directory})");
                VmStopReport kept;
                try
                {
                    kept = await vm.WaitForExitAsync(stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    kept = await vm.ShutdownAsync(TimeSpan.FromSeconds(30), CancellationToken.None).ConfigureAwait(false);
                }

                Progress($"stopped ({kept.How})");
                return ExitFor(report);
            }

            Progress("shutting down (ACPI power button)");
            VmStopReport stopped = await vm.ShutdownAsync(TimeSpan.FromSeconds(verdict.Outcome == BootOutcome.Booted ? 30 : 1), CancellationToken.None)
                .ConfigureAwait(false);
            report = report with
            {
                Stopped = $"{stopped.How}; UEFI variables {(stopped.VariableStoreFailure is { } f ? "NOT written back: " + f : stopped.VariableStorePersisted ? "written back into the VMGS" : "unchanged")}",
            };
            Print(parse.Out(), report, json);
            return ExitFor(report);
        }
    }

    private static int ExitFor(QuickstartReport report) =>
        report.Booted && report.Attestation is not { Passed: false } ? (int)ExitCode.Ok : (int)ExitCode.VerificationFailed;

    private static void Print(TextWriter output, QuickstartReport report, bool json)
    {
        if (json)
            CliJson.Write(report, output);
        else
            output.Write(report.ToText());
    }

    private sealed class ProgressLines(Action<string> progress) : IProgress<string>
    {
        public void Report(string value) => progress(value);
    }
}
