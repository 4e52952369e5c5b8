using Microsoft.Data.Sqlite;
using TrustedLaunch.Server.Stores.Sqlite;

namespace TrustedLaunch.Server.Security.Stores;

/// <summary><see cref="IAuditLog"/> on SQLite (table <c>audit_events</c>).</summary>
public sealed class SqliteAuditLog(SqliteDatabase database) : IAuditLog
{
    public async Task AppendAsync(AuditEvent entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using SqliteCommand command = writer.Connection.CreateCommand();
        command.CommandText = """
            INSERT INTO audit_events (at, caller, caller_kind, method, path, status, outcome, remote_address)
            VALUES ($at, $caller, $kind, $method, $path, $status, $outcome, $remote)
            """;
        command.Parameters.AddWithValue("$at", SqliteDatabase.ToUnixMilliseconds(entry.At));
        command.Parameters.AddWithValue("$caller", entry.Caller);
        command.Parameters.AddWithValue("$kind", entry.CallerKind);
        command.Parameters.AddWithValue("$method", entry.Method);
        command.Parameters.AddWithValue("$path", entry.Path);
        command.Parameters.AddWithValue("$status", entry.Status);
        command.Parameters.AddWithValue("$outcome", entry.Outcome);
        command.Parameters.AddWithValue("$remote", (object?)entry.RemoteAddress ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<AuditEvent>> ListAsync(int limit, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, at, caller, caller_kind, method, path, status, outcome, remote_address FROM audit_events
            WHERE at >= $since ORDER BY id DESC LIMIT $limit
            """;
        command.Parameters.AddWithValue("$since", since is DateTimeOffset s ? SqliteDatabase.ToUnixMilliseconds(s) : 0L);
        command.Parameters.AddWithValue("$limit", limit);
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<AuditEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new AuditEvent(reader.GetInt64(0), SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(1)), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetString(5), reader.GetInt32(6), reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8)));
        }

        return events;
    }
}
