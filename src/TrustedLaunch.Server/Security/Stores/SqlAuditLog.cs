using System.Data.Common;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Security.Stores;

/// <summary>
/// <see cref="IAuditLog"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL) (table <c>audit_events</c>). Appends are
/// committed in groups: an append that finds none being written writes its event and every one queued meanwhile in one
/// transaction (one write turn and one commit on SQLite, one round trip on PostgreSQL); the others wait for that commit.
/// Every caller still returns only once its own event is stored, so nothing is acknowledged that a crash could lose.
/// </summary>
public sealed class SqlAuditLog(StoreDatabase database) : IAuditLog
{
    private const string Insert = """
        INSERT INTO audit_events (at, caller, caller_kind, method, path, status, outcome, remote_address)
        VALUES (@at, @caller, @kind, @method, @path, @status, @outcome, @remote)
        """;

    private readonly Lock _queue = new();
    private List<PendingEvent> _pending = [];
    private bool _writing;

    public async Task AppendAsync(AuditEvent entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var pending = new PendingEvent(entry, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        bool lead;
        lock (_queue)
        {
            _pending.Add(pending);
            lead = !_writing;
            _writing = true;
        }

        if (lead)
            await WritePendingAsync();
        // A leader writes the others' events too, whatever its own caller does; a follower may stop waiting (its event is
        // then stored or not, as an append cancelled before its commit always was).
        await pending.Stored.Task.WaitAsync(cancellationToken);
    }

    // The leader: writes what is queued until nothing is, then hands the role to the next append.
    private async Task WritePendingAsync()
    {
        while (true)
        {
            List<PendingEvent> group;
            lock (_queue)
            {
                if (_pending.Count == 0)
                {
                    _writing = false;
                    return;
                }

                group = _pending;
                _pending = [];
            }

            try
            {
                await InsertAsync(group);
                foreach (PendingEvent pending in group)
                    pending.Stored.TrySetResult();
            }
#pragma warning disable CA1031 // whatever failed the group's transaction is each waiting append's failure, given to it
            catch (Exception e)
#pragma warning restore CA1031
            {
                foreach (PendingEvent pending in group)
                    pending.Stored.TrySetException(e);
            }
        }
    }

    private async Task InsertAsync(List<PendingEvent> group)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(CancellationToken.None);
        DbConnection connection = writer.Connection;
        if (connection.CanCreateBatch)
        {
            // PostgreSQL: the group as one batch, one round trip, in one implicit transaction.
            await using DbBatch batch = connection.CreateBatch();
            foreach (PendingEvent pending in group)
            {
                DbBatchCommand command = batch.CreateBatchCommand();
                command.CommandText = Insert;
                foreach ((string name, object? value) in Parameters(pending.Entry))
                {
                    DbParameter parameter = command.CreateParameter();
                    parameter.ParameterName = name;
                    parameter.Value = value ?? DBNull.Value;
                    command.Parameters.Add(parameter);
                }

                batch.BatchCommands.Add(command);
            }

            await batch.ExecuteNonQueryAsync();
            return;
        }

        await using DbTransaction? transaction = group.Count > 1 ? await connection.BeginTransactionAsync() : null;
        foreach (PendingEvent pending in group)
        {
            // Every write request appends one (a challenge and an attestation each): kept compiled like the attestation's own statements.
            await using DbCommand command = SqlCommands.Prepared(connection, transaction, Insert);
            foreach ((string name, object? value) in Parameters(pending.Entry))
                command.With(name, value);
            await command.ExecuteNonQueryAsync();
        }

        if (transaction is not null)
            await transaction.CommitAsync();
    }

    private static (string Name, object? Value)[] Parameters(AuditEvent entry) =>
    [
        ("@at", StoreDatabase.ToUnixMilliseconds(entry.At)), ("@caller", entry.Caller), ("@kind", entry.CallerKind), ("@method", entry.Method),
        ("@path", entry.Path), ("@status", entry.Status), ("@outcome", entry.Outcome), ("@remote", entry.RemoteAddress),
    ];

    private sealed record PendingEvent(AuditEvent Entry, TaskCompletionSource Stored);

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
