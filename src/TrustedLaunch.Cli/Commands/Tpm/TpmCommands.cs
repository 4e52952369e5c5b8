using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.Tpm;

internal static class TpmCommands
{
    public static Command Create()
    {
        var command = new Command("tpm", "TPM 2.0 tools: quote verification and talking to a TPM.");
        command.Subcommands.Add(CheckQuoteCommand.Create());
        command.Subcommands.Add(PcrReadCommand.Create());
        command.Subcommands.Add(MakeCredentialCommand.Create());
        return command;
    }
}
