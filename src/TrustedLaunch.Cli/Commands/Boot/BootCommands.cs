using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.Boot;

internal static class BootCommands
{
    public static Command Create()
    {
        var command = new Command("boot", "Boot one VM in the foreground and report the boot verdict.");
        return command;
    }
}
