using TrustedLaunch.Server.Replicas;
using TrustedLaunch.Server.Security.Stores;

namespace TrustedLaunch.Server.Security;

/// <summary>
/// Deletes audit events older than <see cref="ServiceSecurityOptions.AuditRetention"/> (<c>tl server --audit-retention-days</c>),
/// at start and then every ten minutes; the maintenance leader purges for every replica. Without a retention, events are kept.
/// </summary>
internal sealed class AuditPurger(IAuditLog audit, ServiceSecurityOptions security, MaintenanceLeader leader, TimeProvider time)
    : LeaderPeriodicJob(leader, time, TimeSpan.FromMinutes(10), runAtStart: true)
{
    protected override bool Enabled => security.AuditRetention is not null;

    protected override Task RunOnceAsync(CancellationToken cancellationToken) =>
        audit.PurgeBeforeAsync(Time.GetUtcNow() - security.AuditRetention!.Value, cancellationToken);
}
