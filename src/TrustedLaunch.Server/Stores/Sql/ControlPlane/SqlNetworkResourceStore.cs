using System.Data.Common;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Network;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Stores.Sql.ControlPlane;

/// <summary>
/// <see cref="INetworkResourceStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL) (table <c>arm_resources</c>): network resources and VM extensions, each
/// row compare-and-swapped on its version.
/// </summary>
public sealed class SqlNetworkResourceStore(StoreDatabase database) : INetworkResourceStore
{
    private const string Columns = "subscription_id, resource_group, type, name, location, version, body_json, changed_at";

    public async Task<NetworkResourceRecord?> GetAsync(string subscriptionId, string resourceGroup, string type, string name, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
            $"SELECT {Columns} FROM arm_resources WHERE subscription_id = @s AND group_key = @g AND type_key = @t AND name_key = @n")
            .With("@s", subscriptionId).With("@g", ResourceIds.Key(resourceGroup)).With("@t", ResourceIds.Key(type)).With("@n", ResourceIds.Key(name));
        var found = await ReadAllAsync(command, cancellationToken);
        return found.Count > 0 ? found[0] : null;
    }

    public async Task<IReadOnlyList<NetworkResourceRecord>> ListAsync(string subscriptionId, string resourceGroup, string type, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
            $"SELECT {Columns} FROM arm_resources WHERE subscription_id = @s AND group_key = @g AND type_key = @t ORDER BY name_key")
            .With("@s", subscriptionId).With("@g", ResourceIds.Key(resourceGroup)).With("@t", ResourceIds.Key(type));
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<NetworkResourceRecord>> ListInSubscriptionAsync(string subscriptionId, string type, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
            $"SELECT {Columns} FROM arm_resources WHERE subscription_id = @s AND type_key = @t ORDER BY group_key, name_key")
            .With("@s", subscriptionId).With("@t", ResourceIds.Key(type));
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<WriteOutcome> SaveAsync(NetworkResourceRecord resource, long? expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbTransaction transaction = await database.BeginWriteTransactionAsync(writer.Connection, cancellationToken);
        if (expectedVersion is null
            && await SqlResourceGroupStore.RefuseNewMemberAsync(writer.Connection, transaction, resource.SubscriptionId, ResourceIds.Key(resource.ResourceGroup),
                cancellationToken) is WriteOutcome refused)
            return refused;
        string sql = expectedVersion is null
            ? $"""
              INSERT INTO arm_resources (group_key, type_key, name_key, {Columns}) VALUES (@g, @t, @n, @s, @group, @type, @name, @location, @version, @body, @at)
              ON CONFLICT DO NOTHING
              """
            : """
              UPDATE arm_resources SET location = @location, version = @version, body_json = @body, changed_at = @at
              WHERE subscription_id = @s AND group_key = @g AND type_key = @t AND name_key = @n AND version = @expected
              """;
        await using DbCommand command = SqlCommands.Create(writer.Connection, transaction, sql)
            .With("@s", resource.SubscriptionId).With("@g", ResourceIds.Key(resource.ResourceGroup)).With("@t", ResourceIds.Key(resource.Type))
            .With("@n", ResourceIds.Key(resource.Name)).With("@group", resource.ResourceGroup).With("@type", resource.Type).With("@name", resource.Name)
            .With("@location", resource.Location).With("@version", resource.Version).With("@body", resource.BodyJson)
            .With("@at", StoreDatabase.ToUnixMilliseconds(resource.ChangedAt)).With("@expected", expectedVersion);
        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
            return WriteOutcome.Conflict; // disposing the transaction rolls it back
        await transaction.CommitAsync(cancellationToken);
        return WriteOutcome.Written;
    }

    public async Task<bool> RemoveAsync(string subscriptionId, string resourceGroup, string type, string name, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(writer.Connection, null,
            "DELETE FROM arm_resources WHERE subscription_id = @s AND group_key = @g AND type_key = @t AND name_key = @n")
            .With("@s", subscriptionId).With("@g", ResourceIds.Key(resourceGroup)).With("@t", ResourceIds.Key(type)).With("@n", ResourceIds.Key(name));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static async Task<IReadOnlyList<NetworkResourceRecord>> ReadAllAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var found = new List<NetworkResourceRecord>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found.Add(new NetworkResourceRecord
            {
                SubscriptionId = reader.GetString(0),
                ResourceGroup = reader.GetString(1),
                Type = reader.GetString(2),
                Name = reader.GetString(3),
                Location = reader.GetString(4),
                Version = reader.GetInt64(5),
                BodyJson = reader.GetString(6),
                ChangedAt = StoreDatabase.FromUnixMilliseconds(reader.GetInt64(7)),
            });
        }

        return found;
    }
}
