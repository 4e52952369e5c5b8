using System.CommandLine;
using System.Globalization;
using TrustedLaunch.HostAgent;
using TrustedLaunch.HostAgent.Lifecycle;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.Cli.Commands.Arm;
using TrustedLaunch.Cli.Commands.Host;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.Cli.Commands.Backup;

/// <summary>
/// <c>tl backup create|list|restore</c>: encrypted, self-describing archives of a stopped VM's OS disk and VMGS on this host
/// (docs/lifecycle.md). Exit codes: 0 ok, 1 the archive (or the VM's guest state) fails authentication or is not the
/// recorded file, 2 bad input (no such VM, the VM exists, key file), 3 the VM is running.
/// </summary>
internal static class BackupCommands
{
    public static Command Create()
    {
        var command = new Command("backup", ServiceVerbs.Description(ServiceVerb.Backup));
        command.Subcommands.Add(CreateCreate());
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateRestore());
        return command;
    }

    private static Option<string?> Data() => new("--data") { Description = "The host's TL_HOME (VM folders in vms/, the host key in host/); default TL_HOME." };

    private static Option<string> BackupKey() =>
        CliOptions.KeyFile("The backup key (256-bit key file, mode 0600: 'tl vmgs keygen --out K'); the archive is encrypted under it.");

    private static Command CreateCreate()
    {
        var vmId = new Option<Guid>("--vm-id") { Description = "The VM (its vmId; its folder is TL_HOME/vms/<vmId>).", Required = true };
        var to = new Option<string>("--to") { Description = "The directory the archive is written to (created if missing).", Required = true };
        var key = BackupKey();
        var data = Data();
        var command = new Command("create",
            "Write one archive of the VM's disk and VMGS, taken at one instant (the VMGS writer lock is held across both). " +
            "Exit 0 written, 1 the VMGS does not open with the host's key, 2 no such VM or bad key file, 3 the VM is running.")
        {
            vmId, to, key, data,
        };
        command.SetAction(parse =>
        {
            string home = Home(parse.GetValue(data));
            var folder = new VmFolder(Path.Combine(home, "vms"), Path.GetTempPath(), parse.GetValue(vmId));
            (string path, BackupHeader header) = VmBackups.Create(folder, parse.GetValue(to)!, parse.GetValue(key)!, HostKeyPath(home), DateTimeOffset.UtcNow);
            parse.Out().WriteLine($"Backed up VM {header.VmId} to {path}");
            Print(parse.Out(), header);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateList()
    {
        var directory = new Argument<string>("DIR") { Description = "The directory holding the archives." };
        var command = new Command("list", "List the archives in a directory, from their plaintext headers (nothing is decrypted). Exit 0, 1 an archive is damaged.") { directory };
        command.SetAction(parse =>
        {
            foreach ((string path, BackupHeader header) in VmBackups.List(parse.GetValue(directory)!))
            {
                parse.Out().WriteLine(path);
                Print(parse.Out(), header);
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateRestore()
    {
        var archive = new Argument<string>("ARCHIVE") { Description = "The archive ('tl backup list')." };
        var key = BackupKey();
        var data = Data();
        var disk = new Option<string?>("--disk")
        {
            Description = "Restore as this host's Unattached disk NAME (TL_HOME/detached/) and land it in the control plane as a Microsoft.Compute/disks " +
                "resource (createOption Restore), which 'tl vm create --attach-os-disk NAME' brings up with the backed-up vTPM. Refused (exit 2, nothing " +
                "kept) while the backed-up VM or another holder of its vTPM identity (EK) exists there.",
        };
        var group = new Option<string?>("--resource-group", "-g") { Description = "With --disk: the resource group the disk resource goes in." };
        var subscription = ArmOptions.Subscription();
        var server = ArmOptions.Server();
        var hostName = new Option<string?>("--host-name") { Description = "With --disk: this host's name in the control plane (default: this machine's name)." };
        var command = new Command("restore",
            "Make the VM's folder again from the archive, with its original identity (the same VMGS, so the same vTPM). Refused, with the reason and " +
            "nothing made, when a chunk fails authentication, a file is not the one recorded, or the VMGS does not authenticate under this host's key. " +
            "Exit 0 restored, 1 refused (integrity), 2 the VM's folder exists, bad key file or the control plane refused the disk, 3 the control plane is unreachable.")
        {
            archive, key, data, disk, group, subscription, server, hostName,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string home = Home(parse.GetValue(data));
            if (parse.GetValue(disk) is not string diskName)
            {
                if (parse.GetValue(group) is not null)
                    throw new CliException(ExitCode.BadInput, "--resource-group goes with --disk.");
                BackupHeader header = VmBackups.Restore(parse.GetValue(archive)!, parse.GetValue(key)!, Path.Combine(home, "vms"), Path.GetTempPath(), HostKeyPath(home));
                parse.Out().WriteLine($"Restored VM {header.VmId} into {Path.Combine(home, "vms", header.VmId.ToString("D"))}");
                return (int)ExitCode.Ok;
            }

            if (parse.GetValue(group) is not string resourceGroup)
                throw new CliException(ExitCode.BadInput, "--disk needs --resource-group: the resource group the disk resource goes in.");
            HostAgentOptions host = HostCommand.Options(ArmOptions.ServerUri(parse.GetValue(server)), parse.GetValue(hostName), home, Path.Combine(home, "pki"));
            await BackupDiskRestore.RunAsync(parse, host, parse.GetValue(archive)!, parse.GetValue(key)!, diskName, parse.GetValue(subscription), resourceGroup,
                cancellationToken).ConfigureAwait(false);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    internal static string Home(string? data) => Path.GetFullPath(data ?? TlHome.Path);

    internal static string HostKeyPath(string home) => Path.Combine(home, "host", HostKey.FileName);

    private static void Print(TextWriter output, BackupHeader header)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  backup {header.BackupId}, VM {header.VmId}, taken {header.CreatedAt:u}, key check {header.KeyCheck}"));
        foreach (SnapshotFile file in header.Files)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {file.Name}: {file.Length} bytes, SHA-256 {file.Sha256}"));
    }
}
