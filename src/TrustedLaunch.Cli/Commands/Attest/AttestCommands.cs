using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.Attest;

/// <summary><c>tl attest</c>: offline verification of saved evidence bundles with the same code the service runs.</summary>
internal static class AttestCommands
{
    public static Command Create()
    {
        var command = new Command("attest", "Remote attestation: verify evidence bundles offline.");
        command.Subcommands.Add(VerifyCommand.Create());
        return command;
    }
}
