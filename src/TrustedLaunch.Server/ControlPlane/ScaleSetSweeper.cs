using TrustedLaunch.ControlPlane.ScaleSets;
using TrustedLaunch.Server.Replicas;

namespace TrustedLaunch.Server.ControlPlane;

/// <summary>
/// Runs <see cref="ScaleSetOperationSweep"/> every few seconds on the maintenance leader, so a scale set's operation
/// completes when its instances do, not when a client next reads it (reading it also moves it on).
/// </summary>
internal sealed class ScaleSetSweeper(ScaleSetOperationSweep sweep, MaintenanceLeader leader, TimeProvider time)
    : LeaderPeriodicJob(leader, time, TimeSpan.FromSeconds(5))
{
    protected override Task RunOnceAsync(CancellationToken cancellationToken) => sweep.SweepAsync(cancellationToken);
}
