using Microsoft.Extensions.Hosting;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Replicas;

/// <summary>
/// A job one replica does for all, every <c>interval</c>: only while this replica is the maintenance leader, and a busy
/// or unavailable database is not an error (the next tick tries again). Purges and sweeps derive from it.
/// </summary>
internal abstract class LeaderPeriodicJob(MaintenanceLeader leader, TimeProvider time, TimeSpan interval, bool runAtStart = false) : BackgroundService
{
    protected TimeProvider Time => time;

    /// <summary>False when the job is switched off by its options (nothing runs).</summary>
    protected virtual bool Enabled => true;

    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
            return;
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            if (runAtStart)
                await TickAsync(stoppingToken);
            while (await timer.WaitForNextTickAsync(stoppingToken))
                await TickAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        if (!leader.IsLeader)
            return;
        try
        {
            await RunOnceAsync(cancellationToken);
        }
        catch (Exception e) when (StoreDatabase.IsDatabaseFailure(e))
        {
            // A busy or unavailable database: the next tick tries again.
        }
    }
}
