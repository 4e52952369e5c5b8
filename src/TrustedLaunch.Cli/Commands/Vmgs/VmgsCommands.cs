using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.Vmgs;

internal static class VmgsCommands
{
    public static Command Create()
    {
        var command = new Command("vmgs", "VM guest state files (UEFI variables + vTPM state).");
        return command;
    }
}
