using System.CommandLine;

namespace TrustedLaunch.Cli.Commands;

/// <summary>The JIT host's half of the catalog (not compiled into the NativeAOT <c>tl</c>).</summary>
internal static partial class CommandCatalog
{
    private static partial IEnumerable<Command> Service(ServiceVerb verb) =>
    [
        verb switch
        {
            ServiceVerb.Vmgs => Vmgs.VmgsCommands.Create(),
            ServiceVerb.Backup => Backup.BackupCommands.Create(),
            ServiceVerb.Image => Image.ImageCommands.Create(),
            ServiceVerb.Boot => Boot.BootCommands.Create(),
            ServiceVerb.Server => Server.ServerCommands.Create(),
            ServiceVerb.Host => Host.HostCommand.Create(),
            ServiceVerb.Quickstart => Quickstart.QuickstartCommand.Create(),
            ServiceVerb.Interop => Interop.InteropCommands.Create(),
            _ => throw new ArgumentOutOfRangeException(nameof(verb), verb, "not a service verb"),
        },
    ];
}
