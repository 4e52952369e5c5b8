using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.Module;

internal static class ModuleCommands
{
    public static Command Create()
    {
        var command = new Command("module", "Linux kernel module signatures.");
        return command;
    }
}
