namespace TrustedLaunch.Server.Stores;

/// <summary>A named lease as stored: who holds it, until when, since when.</summary>
public sealed record LeaseRecord(string Name, string Holder, DateTimeOffset ExpiresAt, DateTimeOffset AcquiredAt);

/// <summary>
/// Named leases shared by the replicas of one database (a table, not a session lock: a pooled connection carries
/// nothing between uses, and a replica killed at any moment loses its lease at <c>expires_at</c>).
/// </summary>
public interface ILeaseStore
{
    /// <summary>
    /// Takes the lease for <paramref name="holder"/> until <paramref name="now"/> + <paramref name="duration"/> when it is
    /// free, expired, or already <paramref name="holder"/>'s (a renewal). One statement decides, so of any number of
    /// replicas asking at once exactly one holds it. True: <paramref name="holder"/> holds it now.
    /// </summary>
    Task<bool> TryAcquireAsync(string name, string holder, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>Gives the lease up early (a clean stop), so another replica takes over at once; nothing if another holds it.</summary>
    Task ReleaseAsync(string name, string holder, CancellationToken cancellationToken);

    Task<LeaseRecord?> GetAsync(string name, CancellationToken cancellationToken);
}
