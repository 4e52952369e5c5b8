using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Telemetry;

namespace TrustedLaunch.Server.Replicas;

/// <summary>
/// Elects one replica of the database to do the periodic maintenance (posture sweeps and evaluation, webhook delivery,
/// nonce purging, resuming remediations) by holding the table lease <see cref="LeaseName"/>, renewed every third of
/// <see cref="ReplicaOptions.LeaseDuration"/>. When the leader dies its lease expires and the next renewal round of
/// another replica takes it; a clean stop releases it at once. On SQLite (one process) this replica is always the leader.
/// </summary>
public sealed class MaintenanceLeader(ILeaseStore leases, ReplicaOptions options, TimeProvider time, ILogger<MaintenanceLeader> logger,
    ControlPlaneTelemetry? telemetry = null)
    : BackgroundService
{
    public const string LeaseName = "maintenance";

    // The lease kind in tl.lease.claims (docs/observability.md).
    private const string LeaseTelemetryName = "leader";

    // Ticks of the local clock until which this replica may act as leader: the lease's expiry as computed from the
    // time before the acquiring statement was sent, less a margin, so it never outlasts the stored lease.
    private long _leaderUntilTicks;

    /// <summary>Whether this replica holds the maintenance lease now.</summary>
    public bool IsLeader => time.GetUtcNow().UtcTicks < Interlocked.Read(ref _leaderUntilTicks);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Decide once before the workers start, so a single replica's first posture sweep runs at start-up.
        await RenewAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!IsLeader)
            return;
        Interlocked.Exchange(ref _leaderUntilTicks, 0);
        try
        {
            await leases.ReleaseAsync(LeaseName, options.ReplicaId, cancellationToken);
        }
        catch (Exception e) when (StoreDatabase.IsDatabaseFailure(e))
        {
            // The lease then expires by itself.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(options.LeaseDuration / 3, time, stoppingToken);
                await RenewAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        bool was = IsLeader;
        DateTimeOffset asked = time.GetUtcNow();
        bool held;
        try
        {
            held = await leases.TryAcquireAsync(LeaseName, options.ReplicaId, asked, options.LeaseDuration, cancellationToken);
        }
        catch (Exception e) when (StoreDatabase.IsDatabaseFailure(e))
        {
            // Unsure whether the renewal landed: keep acting only until the lease we knew of ends.
            ReplicaLog.LeaseRenewalFailed(logger, LeaseName, e.Message);
            return;
        }

        Interlocked.Exchange(ref _leaderUntilTicks, held ? (asked + options.LeaseDuration * 0.9).UtcTicks : 0);
        telemetry?.LeaseClaimed(LeaseTelemetryName, (held, was) switch
        {
            (true, true) => "renewed",
            (true, false) => "claimed",
            (false, true) => "lost",
            _ => "refused",
        });
        if (held && !was)
            ReplicaLog.BecameLeader(logger, options.ReplicaId);
        else if (!held && was)
            ReplicaLog.LostLeadership(logger, options.ReplicaId);
    }
}
