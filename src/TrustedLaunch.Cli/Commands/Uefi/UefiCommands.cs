using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.Uefi;

internal static class UefiCommands
{
    public static Command Create()
    {
        var command = new Command("uefi", "UEFI variable stores: inspect, create and sign updates.");
        return command;
    }
}
