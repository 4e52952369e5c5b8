using System.CommandLine;

namespace TrustedLaunch.Cli.Commands;

/// <summary>Every top-level verb of <c>tl</c>; each area builds its own subtree in its own folder.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All() =>
    [
        EventLog.EventLogCommands.Create(),
        Tpm.TpmCommands.Create(),
        Uefi.UefiCommands.Create(),
        SecureBoot.SecureBootCommands.Create(),
        Module.ModuleCommands.Create(),
        Ca.CaCommands.Create(),
        Vtpm.VtpmCommands.Create(),
        Vmgs.VmgsCommands.Create(),
        Backup.BackupCommands.Create(),
        Image.ImageCommands.Create(),
        Boot.BootCommands.Create(),
        Server.ServerCommands.Create(),
        Host.HostCommand.Create(),
        Group.GroupCommands.Create(),
        Vm.VmCommands.Create(),
        Snapshot.SnapshotCommands.Create(),
        Disk.DiskCommands.Create(),
        Vmss.VmssCommands.Create(),
        Deployment.DeploymentCommands.Create(),
        Security.SecurityCommands.Create(),
        Attest.AttestCommands.Create(),
        Quickstart.QuickstartCommand.Create(),
        Interop.InteropCommands.Create(),
    ];
}
