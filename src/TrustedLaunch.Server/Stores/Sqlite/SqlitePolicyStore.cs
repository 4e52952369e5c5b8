using Microsoft.Data.Sqlite;

namespace TrustedLaunch.Server.Stores.Sqlite;

/// <summary><see cref="IPolicyStore"/> on SQLite.</summary>
public sealed class SqlitePolicyStore(SqliteDatabase database) : IPolicyStore
{
    public async Task<PolicyWrite> SaveAsync(StoredPolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentException.ThrowIfNullOrEmpty(policy.PolicyJson);
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        SqliteConnection connection = writer.Connection;
        // BEGIN IMMEDIATE, so that "was it there" and the write are one decision even against another process.
        await using SqliteTransaction transaction = connection.BeginTransaction(deferred: false);
        PolicyWrite write = PolicyWrite.Replaced;
        await using (SqliteCommand update = Command(connection, transaction,
            "UPDATE policies SET policy_json = $json, updated_at = $at WHERE name = $name", policy))
        {
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                await using SqliteCommand insert = Command(connection, transaction,
                    "INSERT INTO policies (name, policy_json, updated_at) VALUES ($name, $json, $at)", policy);
                await insert.ExecuteNonQueryAsync(cancellationToken);
                write = PolicyWrite.Created;
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return write;
    }

    public async Task<StoredPolicy?> GetAsync(string name, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT name, policy_json, updated_at FROM policies WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<StoredPolicy>> ListAsync(CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT name, policy_json, updated_at FROM policies ORDER BY name";
        var policies = new List<StoredPolicy>();
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            policies.Add(Read(reader));
        return policies;
    }

    public async Task<PolicyRemoval> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        SqliteConnection connection = writer.Connection;
        await using (SqliteCommand delete = connection.CreateCommand())
        {
            // The one statement that decides, so a VM assigned the policy meanwhile keeps it.
            delete.CommandText = "DELETE FROM policies WHERE name = $name AND NOT EXISTS (SELECT 1 FROM vms WHERE policy_name = $name)";
            delete.Parameters.AddWithValue("$name", name);
            if (await delete.ExecuteNonQueryAsync(cancellationToken) == 1)
                return PolicyRemoval.Removed;
        }

        // Not removed: say why (the decision above is already made).
        await using SqliteCommand why = connection.CreateCommand();
        why.CommandText = "SELECT EXISTS (SELECT 1 FROM policies WHERE name = $name)";
        why.Parameters.AddWithValue("$name", name);
        return (long)(await why.ExecuteScalarAsync(cancellationToken))! == 1 ? PolicyRemoval.InUse : PolicyRemoval.NotFound;
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql, StoredPolicy policy)
    {
        SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$name", policy.Name);
        command.Parameters.AddWithValue("$json", policy.PolicyJson);
        command.Parameters.AddWithValue("$at", SqliteDatabase.ToUnixMilliseconds(policy.UpdatedAt));
        return command;
    }

    private static StoredPolicy Read(SqliteDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(2)));
}
