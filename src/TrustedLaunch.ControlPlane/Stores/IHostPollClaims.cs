namespace TrustedLaunch.ControlPlane.Stores;

/// <summary>
/// Which replica serves a host's long-poll (docs/scale-out.md, host long-polls): a claim on the host's row
/// (<c>claimed_by</c>, <c>claimed_until</c>) held by the replica whose poll of the host waits, renewed while it waits,
/// released when it answers, and taken by another replica only once released or expired (its holder was killed).
/// The implementation knows which replica it speaks for.
/// </summary>
public interface IHostPollClaims
{
    /// <summary>How long a claim holds without renewal; its holder renews it every third of this.</summary>
    TimeSpan Duration { get; }

    /// <summary>
    /// Claims the host's row for this replica until <paramref name="now"/> + <see cref="Duration"/>, or renews this replica's
    /// claim: null when this replica holds it now, else the time until which another replica's claim holds.
    /// </summary>
    Task<DateTimeOffset?> TryClaimAsync(string hostName, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Ends this replica's claim on the host's row (nothing when another replica holds it).</summary>
    Task ReleaseAsync(string hostName, CancellationToken cancellationToken);
}
