using System.Data.Common;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Stores.Sql.ControlPlane;

/// <summary><see cref="ISubscriptionStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL).</summary>
public sealed class SqlSubscriptionStore(StoreDatabase database, string displayName = "TrustedLaunch") : ISubscriptionStore
{
    private const string Columns = "subscription_id, display_name, is_default, created_at";

    public async Task<SubscriptionRecord> EnsureDefaultAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await ReadDefaultAsync(await database.OpenConnectionAsync(cancellationToken), null, cancellationToken) is SubscriptionRecord existing)
            return existing;
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        // BEGIN IMMEDIATE: another process starting at the same moment waits, then finds ours.
        await using DbTransaction transaction = await database.BeginWriteTransactionAsync(writer.Connection, cancellationToken);
        if (await ReadDefaultAsync(writer.Connection, transaction, cancellationToken) is SubscriptionRecord raced)
            return raced;
        var subscription = new SubscriptionRecord
        {
            SubscriptionId = Guid.NewGuid().ToString("D"), DisplayName = displayName, IsDefault = true, CreatedAt = now,
        };
        await using (DbCommand insert = SqlCommands.Create(writer.Connection, transaction,
            $"INSERT INTO subscriptions ({Columns}) VALUES (@id, @name, 1, @at)")
            .With("@id", subscription.SubscriptionId).With("@name", subscription.DisplayName).With("@at", StoreDatabase.ToUnixMilliseconds(now)))
            await insert.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return subscription;
    }

    public async Task<SubscriptionRecord?> GetAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, $"SELECT {Columns} FROM subscriptions WHERE subscription_id = @id")
            .With("@id", subscriptionId.ToLowerInvariant());
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<SubscriptionRecord>> ListAsync(CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, $"SELECT {Columns} FROM subscriptions ORDER BY created_at, subscription_id");
        var subscriptions = new List<SubscriptionRecord>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            subscriptions.Add(Read(reader));
        return subscriptions;
    }

    private static async Task<SubscriptionRecord?> ReadDefaultAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        try
        {
            await using DbCommand command = SqlCommands.Create(connection, transaction, $"SELECT {Columns} FROM subscriptions WHERE is_default = 1");
            await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
        }
        finally
        {
            if (transaction is null)
                await connection.DisposeAsync();
        }
    }

    private static SubscriptionRecord Read(DbDataReader reader) => new()
    {
        SubscriptionId = reader.GetString(0),
        DisplayName = reader.GetString(1),
        IsDefault = reader.GetInt64(2) == 1,
        CreatedAt = StoreDatabase.FromUnixMilliseconds(reader.GetInt64(3)),
    };
}
