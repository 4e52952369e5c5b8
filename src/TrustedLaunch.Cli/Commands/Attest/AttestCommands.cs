using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.Attest;

/// <summary><c>tl attest</c>: offline verification of saved evidence bundles with the same code the service runs, and of tokens.</summary>
internal static class AttestCommands
{
    public static Command Create()
    {
        var command = new Command("attest", "Remote attestation: verify evidence bundles offline, and the tokens the service issues.");
        command.Subcommands.Add(VerifyCommand.Create());
        command.Subcommands.Add(VerifyTokenCommand.Create());
        return command;
    }
}
