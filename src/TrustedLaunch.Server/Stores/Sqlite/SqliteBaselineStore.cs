using Microsoft.Data.Sqlite;

namespace TrustedLaunch.Server.Stores.Sqlite;

/// <summary><see cref="IBaselineStore"/> on SQLite.</summary>
public sealed class SqliteBaselineStore(SqliteDatabase database) : IBaselineStore
{
    public async Task<StoredBaseline?> GetAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT baseline_json, learned_at, relearn_requested_at FROM baselines WHERE vm_id = $vm";
        command.Parameters.AddWithValue("$vm", SqliteNonceStore.VmKey(vmId));
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;
        DateTimeOffset? relearnAt = reader.IsDBNull(2) ? null : SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(2));
        return new StoredBaseline(vmId, reader.GetString(0), SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(1)), relearnAt is not null, relearnAt);
    }

    public async Task SaveAsync(Guid vmId, string baselineJson, DateTimeOffset learnedAt, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(baselineJson);
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        SqliteConnection connection = writer.Connection;
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO baselines (vm_id, baseline_json, learned_at, relearn_requested_at) VALUES ($vm, $json, $at, NULL)
            ON CONFLICT (vm_id) DO UPDATE SET baseline_json = excluded.baseline_json, learned_at = excluded.learned_at,
                relearn_requested_at = NULL
            """;
        command.Parameters.AddWithValue("$vm", SqliteNonceStore.VmKey(vmId));
        command.Parameters.AddWithValue("$json", baselineJson);
        command.Parameters.AddWithValue("$at", SqliteDatabase.ToUnixMilliseconds(learnedAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task RequestRelearnAsync(Guid vmId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        SqliteConnection connection = writer.Connection;
        await using SqliteCommand command = connection.CreateCommand();
        // A VM without a baseline learns at its next pass anyway; the flag only matters for an existing one.
        command.CommandText = "UPDATE baselines SET relearn_requested_at = $at WHERE vm_id = $vm";
        command.Parameters.AddWithValue("$vm", SqliteNonceStore.VmKey(vmId));
        command.Parameters.AddWithValue("$at", SqliteDatabase.ToUnixMilliseconds(at));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
