using System.Data.Common;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Security.Stores;

/// <summary><see cref="IAuditLog"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL) (table <c>audit_events</c>).</summary>
public sealed class SqlAuditLog(StoreDatabase database) : IAuditLog
{
    public async Task AppendAsync(AuditEvent entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = writer.Connection.CreateCommand();
        command.CommandText = """
            INSERT INTO audit_events (at, caller, caller_kind, method, path, status, outcome, remote_address)
            VALUES (@at, @caller, @kind, @method, @path, @status, @outcome, @remote)
            """;
        command.With("@at", StoreDatabase.ToUnixMilliseconds(entry.At));
        command.With("@caller", entry.Caller);
        command.With("@kind", entry.CallerKind);
        command.With("@method", entry.Method);
        command.With("@path", entry.Path);
        command.With("@status", entry.Status);
        command.With("@outcome", entry.Outcome);
        command.With("@remote", (object?)entry.RemoteAddress ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<AuditEvent>> ListAsync(int limit, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, at, caller, caller_kind, method, path, status, outcome, remote_address FROM audit_events
            WHERE at >= @since ORDER BY id DESC LIMIT @limit
            """;
        command.With("@since", since is DateTimeOffset s ? StoreDatabase.ToUnixMilliseconds(s) : 0L);
        command.With("@limit", limit);
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<AuditEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new AuditEvent(reader.GetInt64(0), StoreDatabase.FromUnixMilliseconds(reader.GetInt64(1)), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetString(5), (int)reader.GetInt64(6), reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8)));
        }

        return events;
    }

    public async Task<int> PurgeBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(writer.Connection, null, "DELETE FROM audit_events WHERE at < @before")
            .With("@before", StoreDatabase.ToUnixMilliseconds(before));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
