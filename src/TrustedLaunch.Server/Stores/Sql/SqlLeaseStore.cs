using System.Data.Common;

namespace TrustedLaunch.Server.Stores.Sql;

/// <summary><see cref="ILeaseStore"/> on <see cref="StoreDatabase"/>: acquiring and renewing is one conditional upsert.</summary>
public sealed class SqlLeaseStore(StoreDatabase database) : ILeaseStore
{
    public async Task<bool> TryAcquireAsync(string name, string holder, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(holder);
        long nowMs = StoreDatabase.ToUnixMilliseconds(now);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        // The row is locked by the upsert (PostgreSQL re-checks the WHERE on the latest row version after waiting), so of
        // two replicas taking an expired lease at once one updates it and the other's condition no longer holds.
        // A renewal keeps acquired_at; a takeover sets it.
        await using DbCommand command = SqlCommands.Create(writer.Connection, null, """
            INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES (@name, @holder, @expires, @now)
            ON CONFLICT (name) DO UPDATE SET expires_at = excluded.expires_at,
                acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END,
                holder = excluded.holder
            WHERE leases.holder = excluded.holder OR leases.expires_at <= @now
            """)
            .With("@name", name).With("@holder", holder).With("@expires", nowMs + (long)duration.TotalMilliseconds).With("@now", nowMs);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task ReleaseAsync(string name, string holder, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(writer.Connection, null, "UPDATE leases SET expires_at = 0 WHERE name = @name AND holder = @holder")
            .With("@name", name).With("@holder", holder);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<LeaseRecord?> GetAsync(string name, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, "SELECT name, holder, expires_at, acquired_at FROM leases WHERE name = @name")
            .With("@name", name);
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new LeaseRecord(reader.GetString(0), reader.GetString(1), StoreDatabase.FromUnixMilliseconds(reader.GetInt64(2)),
                StoreDatabase.FromUnixMilliseconds(reader.GetInt64(3)))
            : null;
    }
}
