using Microsoft.Extensions.Hosting;
using TrustedLaunch.Server.Replicas;
using TrustedLaunch.Server.Security.Stores;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Security;

/// <summary>
/// Deletes audit events older than <see cref="ServiceSecurityOptions.AuditRetention"/> (<c>tl server --audit-retention-days</c>),
/// at start and then every <see cref="Interval"/>; the maintenance leader purges for every replica. Not registered when
/// no retention is set: events are then kept.
/// </summary>
internal sealed class AuditPurger(IAuditLog audit, ServiceSecurityOptions security, MaintenanceLeader leader, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (security.AuditRetention is not TimeSpan retention)
            return;
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                if (!leader.IsLeader)
                    continue;
                try
                {
                    await audit.PurgeBeforeAsync(time.GetUtcNow() - retention, stoppingToken);
                }
                catch (Exception e) when (StoreDatabase.IsDatabaseFailure(e))
                {
                    // A busy or unavailable database: the next tick tries again; nothing is lost by purging later.
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
