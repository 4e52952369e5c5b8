using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using TrustedLaunch.Cli.Commands.Arm;
using TrustedLaunch.HostAgent;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Runtime.Acceleration;

namespace TrustedLaunch.Cli.Commands.Host;

/// <summary>
/// <c>tl host --server URL</c>: the host agent (docs/host.md). Runs until Ctrl-C or SIGTERM; its VMs keep running after it
/// stops, and the next <c>tl host</c> of this machine adopts them.
/// </summary>
internal static class HostCommand
{
    public static Command Create()
    {
        var server = new Option<string?>("--server") { Description = $"The control plane (tl server); default ${ArmOptions.ServerVariable}, else {ArmOptions.DefaultServer}." };
        var name = new Option<string?>("--name") { Description = "The host's name in the control plane (default: this machine's name)." };
        var data = new Option<string?>("--data") { Description = "This host's TL_HOME: VM folders (vms/), the host key (host/); default TL_HOME." };
        var ca = CliOptions.OptionalCa("Platform CA folder ('tl ca init') that certifies the vTPMs this host manufactures; default TL_HOME/pki.");
        var vcpus = new Option<int?>("--vcpus") { Description = "vCPUs offered to VMs (default: the machine's)." };
        var memory = new Option<int?>("--memory") { Description = "Memory offered to VMs, MiB (default: the machine's)." };
        var accelerator = new Option<string?>("--accelerator") { Description = "kvm or tcg (default: probe /dev/kvm)." };
        accelerator.AcceptOnlyFromAmong("kvm", "tcg");
        var command = new Command("host",
            "Run the host agent: register with the control plane, run the VMs placed on this host (they outlive the agent and are adopted again), " +
            "attest them continuously, report. Exit 0 stopped (Ctrl-C/SIGTERM), 2 bad option, 3 environment (CA, host key, tools).")
        {
            server, name, data, ca, vcpus, memory, accelerator,
        };
        command.Subcommands.Add(HostMoveCommand.Create());
        command.SetAction(async (parse, cancellationToken) =>
        {
            string home = Path.GetFullPath(parse.GetValue(data) ?? TlHome.Path);
            HostAgentOptions options = Options(ArmOptions.ServerUri(parse.GetValue(server)), parse.GetValue(name), home,
                parse.GetValue(ca) ?? Path.Combine(home, "pki"), parse.GetValue(vcpus), parse.GetValue(memory), parse.GetValue(accelerator));
            if (!Directory.Exists(options.CaDirectory))
                throw new CliException(ExitCode.BadInput, $"No platform CA in {options.CaDirectory}; create one with 'tl ca init {options.CaDirectory}' or give --ca.");
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });
            using var logs = new LineLoggerProvider(parse.Error(), "tl host");
            var agent = new HostAgent.HostAgent(options, logs.CreateLogger("tl host"));
            parse.Error().WriteLine($"tl host: {options.HostName} → {options.Server} (VMs in {options.VmsDirectory}); Ctrl-C stops the agent, not the VMs.");
            await agent.RunAsync(stop.Token).ConfigureAwait(false);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    /// <summary>The agent's settings from the command line (shared with the local host of <c>tl server</c>).</summary>
    public static HostAgentOptions Options(Uri server, string? name, string home, string caDirectory, int? vcpus = null, int? memory = null,
        string? accelerator = null)
    {
        string hostName = name ?? DefaultName();
        if (!TrustedLaunch.ControlPlane.Arm.ArmNames.IsHostName(hostName))
            throw new CliException(ExitCode.BadInput, $"The host name '{hostName}' is not valid: 1 to 63 letters, digits, '-' or '.'; give --name.");
        if (vcpus is < 1 || memory is < 128)
            throw new CliException(ExitCode.BadInput, "--vcpus must be at least 1 and --memory at least 128 MiB.");
        return new HostAgentOptions
        {
            Server = server,
            HostName = hostName,
            DataDirectory = home,
            CaDirectory = Path.GetFullPath(caDirectory),
            VCpus = vcpus,
            MemoryInMB = memory,
            Accelerator = accelerator switch
            {
                "kvm" => Accelerator.Kvm,
                "tcg" => Accelerator.Tcg,
                _ => null,
            },
        };
    }

    private static string DefaultName()
    {
        string machine = Environment.MachineName.ToLowerInvariant();
        return TrustedLaunch.ControlPlane.Arm.ArmNames.IsHostName(machine) ? machine : "localhost";
    }
}
