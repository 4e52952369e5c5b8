using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.Vtpm;

internal static class VtpmCommands
{
    public static Command Create()
    {
        var command = new Command("vtpm", "Manufacture and inspect vTPM state.");
        return command;
    }
}
