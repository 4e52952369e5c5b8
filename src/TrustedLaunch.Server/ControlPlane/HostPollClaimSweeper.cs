using TrustedLaunch.Server.Replicas;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;

namespace TrustedLaunch.Server.ControlPlane;

/// <summary>
/// Clears expired host poll claims once per lease period on the maintenance leader (a killed replica's hosts show as
/// unserved rather than held by it); a replica a host's poll reaches takes an expired claim without waiting for this.
/// </summary>
internal sealed class HostPollClaimSweeper(SqlHostPollClaims claims, MaintenanceLeader leader, ReplicaOptions replica, TimeProvider time)
    : LeaderPeriodicJob(leader, time, replica.LeaseDuration)
{
    protected override Task RunOnceAsync(CancellationToken cancellationToken) => claims.SweepExpiredAsync(Time.GetUtcNow(), cancellationToken);
}
