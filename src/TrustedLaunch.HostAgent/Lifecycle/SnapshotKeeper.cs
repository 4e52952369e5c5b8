using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.HostAgent.Vms;

namespace TrustedLaunch.HostAgent.Lifecycle;

/// <summary>
/// Converges the snapshots the control plane keeps on this host (<see cref="HostAssignments.Snapshots"/>): a Present one not
/// taken yet is taken by its VM's supervisor (one pair, on the VM's loop), a Deleted one's folder is removed; each outcome is
/// reported once the control plane accepted the report (a report that did not get through is sent again at the next poll).
/// </summary>
internal sealed class SnapshotKeeper(HostAgentOptions options, ControlPlaneClient client, ILogger logger)
{
    private readonly Lock _gate = new();
    private readonly HashSet<(Guid, string)> _reported = [];
    private readonly HashSet<Guid> _taking = [];

    public void Converge(IReadOnlyList<SnapshotAssignment>? snapshots, Func<Guid, VmSupervisor?> supervisorOf, CancellationToken token)
    {
        foreach (SnapshotAssignment snapshot in snapshots ?? [])
        {
            lock (_gate)
            {
                if (_reported.Contains((snapshot.SnapshotId, snapshot.DesiredState)) || !_taking.Add(snapshot.SnapshotId))
                    continue;
            }

            try
            {
                Converge(snapshot, supervisorOf, token);
            }
            catch (Exception e) when (e is VmLifecycleException or IOException or UnauthorizedAccessException)
            {
                // A folder that cannot be read or removed now: logged, and tried again at the next poll.
                Log.Failed(logger, snapshot.SourceVmId, $"converging snapshot {snapshot.SnapshotId}", "SnapshotFailed", e.Message);
                lock (_gate)
                    _taking.Remove(snapshot.SnapshotId);
            }
        }
    }

    private void Converge(SnapshotAssignment snapshot, Func<Guid, VmSupervisor?> supervisorOf, CancellationToken token)
    {
        if (snapshot.DesiredState == "Deleted")
        {
            if (Directory.Exists(VmSnapshots.Folder(options.SnapshotsDirectory, snapshot.SnapshotId)))
                VmSnapshots.Delete(options.SnapshotsDirectory, snapshot.SnapshotId);
            _ = SendAsync(new SnapshotReport { SnapshotId = snapshot.SnapshotId, State = "Deleted" }, snapshot.DesiredState, token);
        }
        else if (Taken(snapshot.SnapshotId) is SnapshotReport already)
        {
            _ = SendAsync(already, snapshot.DesiredState, token);
        }
        else if (supervisorOf(snapshot.SourceVmId) is VmSupervisor vm)
        {
            _ = TakeAsync(vm, snapshot, token);
        }
        else
        {
            _ = SendAsync(new SnapshotReport
            {
                SnapshotId = snapshot.SnapshotId, State = "Failed",
                Error = new ArmErrorDetail { Code = VmLifecycleException.NotFound, Message = $"Virtual machine {snapshot.SourceVmId} has no files on this host." },
            }, snapshot.DesiredState, token);
        }
    }

    private async Task TakeAsync(VmSupervisor vm, SnapshotAssignment snapshot, CancellationToken token)
    {
        SnapshotReport report;
        try
        {
            report = await vm.TakeSnapshotAsync(snapshot.SnapshotId).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // whatever stopped the copy is the snapshot's failure, reported with its message
        catch (Exception e)
#pragma warning restore CA1031
        {
            report = new SnapshotReport
            {
                SnapshotId = snapshot.SnapshotId, State = "Failed", Error = new ArmErrorDetail { Code = "SnapshotFailed", Message = e.Message },
            };
        }

        await SendAsync(report, snapshot.DesiredState, token).ConfigureAwait(false);
    }

    // A snapshot folder that is complete (its manifest written) was taken: after an agent restart it is reported, not taken again.
    private SnapshotReport? Taken(Guid snapshotId)
    {
        string folder = VmSnapshots.Folder(options.SnapshotsDirectory, snapshotId);
        if (!File.Exists(Path.Combine(folder, VmSnapshots.ManifestName)))
            return null;
        SnapshotManifest manifest = VmSnapshots.ReadManifest(folder);
        return new SnapshotReport { SnapshotId = snapshotId, State = "Succeeded", DiskSizeBytes = manifest.Disk.Length, VmgsSha256 = manifest.Vmgs?.Sha256 };
    }

    private async Task SendAsync(SnapshotReport report, string desired, CancellationToken token)
    {
        try
        {
            await client.ReportAsync(options.HostName, new HostReport { Snapshots = [report] }, token).ConfigureAwait(false);
            lock (_gate)
                _reported.Add((report.SnapshotId, desired));
        }
        catch (ControlPlaneCallException e)
        {
            Log.ServerUnreachable(logger, options.HostName, $"snapshot report: {e.Message}");
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The agent is stopping; the next one reports what is on disk.
        }
        finally
        {
            lock (_gate)
                _taking.Remove(report.SnapshotId); // reported, or to be tried again at the next poll
        }
    }
}
