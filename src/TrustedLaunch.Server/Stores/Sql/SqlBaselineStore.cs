using System.Data.Common;

namespace TrustedLaunch.Server.Stores.Sql;

/// <summary><see cref="IBaselineStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL).</summary>
public sealed class SqlBaselineStore(StoreDatabase database) : IBaselineStore
{
    public async Task<StoredBaseline?> GetAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = "SELECT baseline_json, learned_at, relearn_requested_at FROM baselines WHERE vm_id = @vm";
        command.With("@vm", SqlNonceStore.VmKey(vmId));
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;
        DateTimeOffset? relearnAt = reader.IsDBNull(2) ? null : StoreDatabase.FromUnixMilliseconds(reader.GetInt64(2));
        return new StoredBaseline(vmId, reader.GetString(0), StoreDatabase.FromUnixMilliseconds(reader.GetInt64(1)), relearnAt is not null, relearnAt);
    }

    public async Task SaveAsync(Guid vmId, string baselineJson, DateTimeOffset learnedAt, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(baselineJson);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = SaveCommand(writer.Connection, null, vmId, baselineJson, learnedAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The upsert of a learned baseline (clearing any relearn request), for this store and for a result's transaction.</summary>
    internal static DbCommand SaveCommand(DbConnection connection, DbTransaction? transaction, Guid vmId, string baselineJson, DateTimeOffset learnedAt) =>
        SqlCommands.Prepared(connection, transaction, """
            INSERT INTO baselines (vm_id, baseline_json, learned_at, relearn_requested_at) VALUES (@vm, @json, @at, NULL)
            ON CONFLICT (vm_id) DO UPDATE SET baseline_json = excluded.baseline_json, learned_at = excluded.learned_at,
                relearn_requested_at = NULL
            """)
            .With("@vm", SqlNonceStore.VmKey(vmId))
            .With("@json", baselineJson)
            .With("@at", StoreDatabase.ToUnixMilliseconds(learnedAt));

    public async Task RequestRelearnAsync(Guid vmId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using DbCommand command = connection.CreateCommand();
        // A VM without a baseline learns at its next pass anyway; the flag only matters for an existing one.
        command.CommandText = "UPDATE baselines SET relearn_requested_at = @at WHERE vm_id = @vm";
        command.With("@vm", SqlNonceStore.VmKey(vmId));
        command.With("@at", StoreDatabase.ToUnixMilliseconds(at));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
