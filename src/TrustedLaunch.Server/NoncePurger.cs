using Microsoft.Extensions.Hosting;
using TrustedLaunch.Server.Replicas;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server;

/// <summary>
/// Deletes nonces an hour after they expired, every few minutes. Until then a late attempt is told "expired" rather
/// than "unknown"; after it the nonce is gone, which is just as safe (an unknown nonce is refused too). The maintenance leader purges.
/// </summary>
internal sealed class NoncePurger(INonceStore nonces, MaintenanceLeader leader, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Grace = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!leader.IsLeader)
                    continue; // one replica purges for all
                try
                {
                    await nonces.PurgeExpiredAsync(time.GetUtcNow() - Grace, stoppingToken);
                }
                catch (Exception e) when (StoreDatabase.IsDatabaseFailure(e))
                {
                    // A busy or unavailable database: the next tick tries again; nonces are refused by expiry regardless.
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
