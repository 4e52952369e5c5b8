using TrustedLaunch.Server.Replicas;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server;

/// <summary>
/// Deletes nonces an hour after they expired, every few minutes. Until then a late attempt is told "expired" rather
/// than "unknown"; after it the nonce is gone, which is just as safe (an unknown nonce is refused too, and nonces are
/// refused by expiry whether purged or not). The maintenance leader purges.
/// </summary>
internal sealed class NoncePurger(INonceStore nonces, MaintenanceLeader leader, TimeProvider time)
    : LeaderPeriodicJob(leader, time, TimeSpan.FromMinutes(5))
{
    private static readonly TimeSpan Grace = TimeSpan.FromHours(1);

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => nonces.PurgeExpiredAsync(Time.GetUtcNow() - Grace, cancellationToken);
}
