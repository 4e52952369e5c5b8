using Microsoft.Extensions.Hosting;
using TrustedLaunch.ControlPlane.ScaleSets;
using TrustedLaunch.Server.Replicas;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.ControlPlane;

/// <summary>
/// Runs <see cref="ScaleSetOperationSweep"/> every few seconds on the maintenance leader, so a scale set's operation
/// completes when its instances do, not when a client next reads it.
/// </summary>
internal sealed class ScaleSetSweeper(ScaleSetOperationSweep sweep, MaintenanceLeader leader, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!leader.IsLeader)
                    continue; // one replica sweeps for all
                try
                {
                    await sweep.SweepAsync(stoppingToken);
                }
                catch (Exception e) when (StoreDatabase.IsDatabaseFailure(e))
                {
                    // A busy or unavailable database: the next tick tries again; reading the operation also moves it on.
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
