using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.HostAgent.Lifecycle;

/// <summary>
/// Converges the detached disks the control plane keeps on this host (<see cref="HostAssignments.Disks"/>): a Deleted one's folder
/// (<c>TL_HOME/detached/&lt;name&gt;-&lt;diskId:N&gt;</c>: its OS disk and VM guest state) is removed and reported once the control
/// plane accepted the report (a report that did not get through is sent again at the next poll). Present ones are left alone.
/// </summary>
internal sealed class DiskKeeper(HostAgentOptions options, ControlPlaneClient client, ILogger logger)
{
    private readonly Lock _gate = new();
    private readonly HashSet<Guid> _reported = [];
    private readonly HashSet<Guid> _sending = [];

    public void Converge(IReadOnlyList<DiskAssignment>? disks, CancellationToken token)
    {
        foreach (DiskAssignment disk in disks ?? [])
        {
            if (disk.DesiredState != "Deleted")
                continue;
            lock (_gate)
            {
                if (_reported.Contains(disk.DiskId) || !_sending.Add(disk.DiskId))
                    continue;
            }

            try
            {
                string folder = VmFolder.DetachedFolder(options.DetachedDirectory, disk.Name, disk.DiskId);
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                    DurableFile.SyncDirectory(options.DetachedDirectory);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A folder that cannot be removed now: logged, and tried again at the next poll.
                Log.Failed(logger, disk.DiskId, $"deleting disk {disk.ResourceId}", "DiskDeletionFailed", e.Message);
                lock (_gate)
                    _sending.Remove(disk.DiskId);
                continue;
            }

            _ = SendAsync(disk.DiskId, token);
        }
    }

    private async Task SendAsync(Guid diskId, CancellationToken token)
    {
        try
        {
            await client.ReportAsync(options.HostName, new HostReport { Disks = [new DiskReport { DiskId = diskId, State = "Deleted" }] }, token)
                .ConfigureAwait(false);
            lock (_gate)
                _reported.Add(diskId);
        }
        catch (ControlPlaneCallException e)
        {
            Log.ServerUnreachable(logger, options.HostName, $"disk report: {e.Message}");
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The agent is stopping; the next one finds the folder gone and reports again.
        }
        finally
        {
            lock (_gate)
                _sending.Remove(diskId);
        }
    }
}
