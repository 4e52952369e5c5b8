using System.CommandLine;
using TrustedLaunch.HostAgent;
using TrustedLaunch.HostAgent.Lifecycle;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.Cli.Commands.Host;

/// <summary>
/// <c>tl host move-vm</c>: cold migration of a stopped VM's files from this host's data folder to another host's (a mounted
/// path), the VMGS re-keyed to the target host's key with its vTPM identity unchanged (docs/lifecycle.md).
/// </summary>
internal static class HostMoveCommand
{
    public static Command Create()
    {
        var vmId = new Option<Guid>("--vm-id") { Description = "The VM (its folder is vms/<vmId> under --data).", Required = true };
        var to = new Option<string>("--to-data") { Description = "The target host's TL_HOME (its host key is made there if it has none).", Required = true };
        var data = new Option<string?>("--data") { Description = "The source host's TL_HOME; default TL_HOME." };
        var command = new Command("move-vm",
            "Move a stopped VM's OS disk and VMGS to another host's data folder: the VMGS keeps its vTPM (the identity) under the target's key; " +
            "the source copy is destroyed only after the target's copy is verified, and a move cut short is finished or undone by the next one. " +
            "Exit 0 moved, 1 the copy failed its checks (the source stays), 2 no such VM or the target has it, 3 the VM is running.")
        {
            vmId, to, data,
        };
        command.SetAction(parse =>
        {
            string from = Path.GetFullPath(parse.GetValue(data) ?? TlHome.Path);
            string target = Path.GetFullPath(parse.GetValue(to)!);
            Guid id = parse.GetValue(vmId);
            var source = new VmFolder(Path.Combine(from, "vms"), Path.GetTempPath(), id);
            var destination = new VmFolder(Path.Combine(target, "vms"), Path.GetTempPath(), id);
            string targetKey = HostKey.Ensure(Path.Combine(target, "host"));
            VmMoves.Move(source, Path.Combine(from, "host", HostKey.FileName), destination, targetKey);
            parse.Out().WriteLine($"Moved VM {id} to {destination.Path}");
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
