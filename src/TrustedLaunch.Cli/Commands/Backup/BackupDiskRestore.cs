using System.CommandLine;
using TrustedLaunch.Cli.Commands.Host;
using TrustedLaunch.ControlPlane.Disks;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.HostAgent;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.HostAgent.Lifecycle;

namespace TrustedLaunch.Cli.Commands.Backup;

/// <summary>
/// <c>tl backup restore ARCHIVE --disk NAME -g RG</c>: the archive restored as this host's detached disk, then landed in the control plane
/// as an Unattached <c>Microsoft.Compute/disks</c> resource (<c>PUT /v1/hosts/{host}/restoredDisks/{diskId}</c>, the host's credential).
/// A refusal, or no answer, removes the restored folder again: a disk the control plane does not know is never left behind.
/// </summary>
internal static class BackupDiskRestore
{
    public static async Task RunAsync(ParseResult parse, HostAgentOptions host, string archive, string backupKey, string diskName, string? subscription,
        string resourceGroup, CancellationToken cancellationToken)
    {
        var diskId = Guid.NewGuid();
        (BackupHeader header, string folder) = VmBackups.RestoreAsDisk(archive, backupKey, host.DetachedDirectory, diskName, diskId,
            BackupCommands.HostKeyPath(host.DataDirectory));
        DiskResource landed;
        try
        {
            RestoredDiskFacts facts = RestoredDiskFacts.Read(folder, BackupCommands.HostKeyPath(host.DataDirectory));
            HostCredential? credential = await HostCommand.CredentialAsync(host, joinToken: null, parse.Error(), cancellationToken).ConfigureAwait(false);
            using var client = new ControlPlaneClient(host.Server, credential: credential);
            landed = await client.RegisterRestoredDiskAsync(host.HostName, diskId, new RestoredDiskRegistration
            {
                DiskName = diskName, SubscriptionId = subscription, ResourceGroup = resourceGroup, BackupId = header.BackupId, SourceVmId = header.VmId,
                BackupCreatedAt = header.CreatedAt, BackingFile = facts.BackingFile, GuestStateIncluded = facts.GuestStateIncluded, VTpm = facts.VTpm,
                EkCertificateSerial = facts.EkCertificateSerial,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ControlPlaneCallException or VmLifecycleException or OperationCanceledException)
        {
            Directory.Delete(folder, recursive: true);
            if (e is ControlPlaneCallException call)
            {
                throw new CliException(call.StatusCode is null ? ExitCode.EnvironmentProblem : ExitCode.BadInput,
                    $"The control plane did not take the restored disk {diskName} (the restored files were removed again): {call.Message}", call);
            }

            throw;
        }

        parse.Out().WriteLine($"Restored VM {header.VmId}'s backup {header.BackupId} as disk {landed.Id} (Unattached on host {host.HostName}, {folder})");
        parse.Out().WriteLine($"  its vTPM is the backed-up one; bring it up with: tl vm create -g {resourceGroup} -n NAME --attach-os-disk {diskName}");
    }
}
