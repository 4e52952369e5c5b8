using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.Ca;

internal static class CaCommands
{
    public static Command Create()
    {
        var command = new Command("ca", "The platform PKI (root, vTPM EK and AK CAs).");
        return command;
    }
}
