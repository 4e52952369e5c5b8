using System.Data.Common;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server.Replicas;

namespace TrustedLaunch.Server.Stores.Sql.ControlPlane;

/// <summary>
/// <see cref="IHostPollClaims"/> on <see cref="StoreDatabase"/> for the replica <see cref="ReplicaOptions.ReplicaId"/>: the
/// row <c>host_poll_claims</c> of a host, claimed with <c>FOR UPDATE SKIP LOCKED</c> on PostgreSQL (SQLite's one writer
/// makes the claim exclusive as it is), created by the first claim of a host.
/// </summary>
public sealed class SqlHostPollClaims(StoreDatabase database, ReplicaOptions replica) : IHostPollClaims
{
    // While a concurrent claimer holds the row's lock (skipped) the outcome is unknown for a moment: ask again after this.
    private static readonly TimeSpan ContendedRetry = TimeSpan.FromMilliseconds(200);

    public TimeSpan Duration => replica.LeaseDuration;

    public async Task<DateTimeOffset?> TryClaimAsync(string hostName, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostName);
        string key = ResourceIds.Key(hostName);
        long nowMs = StoreDatabase.ToUnixMilliseconds(now);
        long untilMs = StoreDatabase.ToUnixMilliseconds(now + Duration);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using (DbCommand claim = SqlCommands.Create(writer.Connection, null,
                "UPDATE host_poll_claims SET claimed_by = @me, claimed_until = @until WHERE host_key IN (SELECT host_key FROM host_poll_claims " +
                $"WHERE host_key = @k AND (claimed_until IS NULL OR claimed_until <= @now OR claimed_by = @me){database.Dialect.SkipLocked})")
            .With("@me", replica.ReplicaId).With("@until", untilMs).With("@now", nowMs).With("@k", key))
        {
            if (await claim.ExecuteNonQueryAsync(cancellationToken) == 1)
                return null;
        }

        await using (DbCommand first = SqlCommands.Create(writer.Connection, null,
                "INSERT INTO host_poll_claims (host_key, claimed_by, claimed_until) VALUES (@k, @me, @until) ON CONFLICT (host_key) DO NOTHING")
            .With("@k", key).With("@me", replica.ReplicaId).With("@until", untilMs))
        {
            if (await first.ExecuteNonQueryAsync(cancellationToken) == 1)
                return null;
        }

        await using DbCommand read = SqlCommands.Create(writer.Connection, null, "SELECT claimed_until FROM host_poll_claims WHERE host_key = @k")
            .With("@k", key);
        object? until = await read.ExecuteScalarAsync(cancellationToken);
        // Held by another replica: until its claim ends. Free as last committed: a concurrent claimer locked it (skipped).
        return until is long ms && ms > nowMs ? StoreDatabase.FromUnixMilliseconds(ms) : now + ContendedRetry;
    }

    public async Task ReleaseAsync(string hostName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostName);
        try
        {
            await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
            await using DbCommand release = SqlCommands.Create(writer.Connection, null,
                    "UPDATE host_poll_claims SET claimed_by = NULL, claimed_until = NULL WHERE host_key = @k AND claimed_by = @me")
                .With("@k", ResourceIds.Key(hostName)).With("@me", replica.ReplicaId);
            await release.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception e) when (StoreDatabase.IsDatabaseFailure(e))
        {
            // The claim expires by itself within Duration: the host's next poll waits at most that long for it.
        }
    }

    /// <summary>
    /// Clears the claims that expired before <paramref name="now"/> (their replicas were killed or stalled): the maintenance
    /// leader's sweep, so the table shows who serves which host; a claimer takes an expired claim without it too.
    /// </summary>
    public async Task<int> SweepExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand sweep = SqlCommands.Create(writer.Connection, null,
                "UPDATE host_poll_claims SET claimed_by = NULL, claimed_until = NULL WHERE claimed_until <= @now")
            .With("@now", StoreDatabase.ToUnixMilliseconds(now));
        return await sweep.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The replica holding the host's claim at <paramref name="now"/>, if any (tests, diagnostics).</summary>
    public async Task<string?> HolderAsync(string hostName, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand read = SqlCommands.Create(connection, null,
                "SELECT claimed_by FROM host_poll_claims WHERE host_key = @k AND claimed_until > @now")
            .With("@k", ResourceIds.Key(hostName)).With("@now", StoreDatabase.ToUnixMilliseconds(now));
        return await read.ExecuteScalarAsync(cancellationToken) as string;
    }
}
