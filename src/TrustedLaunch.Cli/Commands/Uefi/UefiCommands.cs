using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.Uefi;

internal static class UefiCommands
{
    public static Command Create()
    {
        var command = new Command("uefi", "UEFI variable stores: inspect, create and sign updates.");
        var vars = new Command("vars", "Per-VM OVMF variable stores (OVMF_VARS*.fd): show, create, sign and apply authenticated updates.");
        vars.Subcommands.Add(VarsShowCommand.Create());
        vars.Subcommands.Add(VarsCreateCommand.Create());
        vars.Subcommands.Add(VarsSignUpdateCommand.Create());
        vars.Subcommands.Add(VarsApplyUpdateCommand.Create());
        command.Subcommands.Add(vars);
        return command;
    }
}
