using System.Data.Common;

namespace TrustedLaunch.Server.Stores.Sql;

/// <summary><see cref="IPolicyStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL).</summary>
public sealed class SqlPolicyStore(StoreDatabase database) : IPolicyStore
{
    public async Task<PolicyWrite> SaveAsync(StoredPolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentException.ThrowIfNullOrEmpty(policy.PolicyJson);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        // BEGIN IMMEDIATE, so that "was it there" and the write are one decision even against another process.
        await using DbTransaction transaction = await database.BeginWriteTransactionAsync(connection, cancellationToken);
        PolicyWrite write = PolicyWrite.Replaced;
        await using (DbCommand update = Command(connection, transaction,
            "UPDATE policies SET policy_json = @json, updated_at = @at WHERE name = @name", policy))
        {
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                await using DbCommand insert = Command(connection, transaction,
                    "INSERT INTO policies (name, policy_json, updated_at) VALUES (@name, @json, @at)", policy);
                await insert.ExecuteNonQueryAsync(cancellationToken);
                write = PolicyWrite.Created;
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return write;
    }

    public async Task<StoredPolicy?> GetAsync(string name, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = "SELECT name, policy_json, updated_at FROM policies WHERE name = @name";
        command.With("@name", name);
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<StoredPolicy>> ListAsync(CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = "SELECT name, policy_json, updated_at FROM policies ORDER BY name";
        var policies = new List<StoredPolicy>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            policies.Add(Read(reader));
        return policies;
    }

    public async Task<PolicyRemoval> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using (DbCommand delete = connection.CreateCommand())
        {
            // The one statement that decides, so a VM assigned the policy meanwhile keeps it.
            delete.CommandText = "DELETE FROM policies WHERE name = @name AND NOT EXISTS (SELECT 1 FROM vms WHERE policy_name = @name)";
            delete.With("@name", name);
            try
            {
                if (await delete.ExecuteNonQueryAsync(cancellationToken) == 1)
                    return PolicyRemoval.Removed;
            }
            catch (DbException e) when (database.Dialect.IsForeignKeyViolation(e))
            {
                // A VM was assigned the policy between this statement's check and its key check (PostgreSQL, read committed).
                return PolicyRemoval.InUse;
            }
        }

        // Not removed: say why (the decision above is already made).
        await using DbCommand why = connection.CreateCommand();
        why.CommandText = "SELECT COUNT(*) FROM policies WHERE name = @name";
        why.With("@name", name);
        return (long)(await why.ExecuteScalarAsync(cancellationToken))! > 0 ? PolicyRemoval.InUse : PolicyRemoval.NotFound;
    }

    private static DbCommand Command(DbConnection connection, DbTransaction transaction, string sql, StoredPolicy policy)
    {
        DbCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.With("@name", policy.Name);
        command.With("@json", policy.PolicyJson);
        command.With("@at", StoreDatabase.ToUnixMilliseconds(policy.UpdatedAt));
        return command;
    }

    private static StoredPolicy Read(DbDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), StoreDatabase.FromUnixMilliseconds(reader.GetInt64(2)));
}
