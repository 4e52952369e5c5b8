using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.SecureBoot;

internal static class SecureBootCommands
{
    public static Command Create()
    {
        var command = new Command("secureboot", "Predict Secure Boot verdicts offline, as the firmware would.");
        command.Subcommands.Add(SecureBootVerifyCommand.Create());
        return command;
    }
}
