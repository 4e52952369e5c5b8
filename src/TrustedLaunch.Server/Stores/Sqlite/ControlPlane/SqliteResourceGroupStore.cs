using Microsoft.Data.Sqlite;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Stores.Sqlite.ControlPlane;

/// <summary><see cref="IResourceGroupStore"/> on SQLite.</summary>
public sealed class SqliteResourceGroupStore(SqliteDatabase database) : IResourceGroupStore
{
    private const string Columns = "subscription_id, name, location, tags_json, version, state, created_at";

    public async Task<ResourceGroupRecord?> GetAsync(string subscriptionId, string name, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = SqliteCommands.Create(connection, null,
            $"SELECT {Columns} FROM resource_groups WHERE subscription_id = $s AND name_key = $k")
            .With("$s", Subscription(subscriptionId)).With("$k", ResourceIds.Key(name));
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<ResourceGroupRecord>> ListAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = SqliteCommands.Create(connection, null,
            $"SELECT {Columns} FROM resource_groups WHERE subscription_id = $s ORDER BY name_key").With("$s", Subscription(subscriptionId));
        var groups = new List<ResourceGroupRecord>();
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            groups.Add(Read(reader));
        return groups;
    }

    public async Task<WriteOutcome> SaveAsync(ResourceGroupRecord group, long? expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(group);
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        string sql = expectedVersion is null
            ? $"""
              INSERT INTO resource_groups (name_key, {Columns}) VALUES ($k, $s, $name, $location, $tags, $version, $state, $created)
              ON CONFLICT (subscription_id, name_key) DO NOTHING
              """
            : """
              UPDATE resource_groups SET tags_json = $tags, version = $version, state = $state, location = $location
              WHERE subscription_id = $s AND name_key = $k AND version = $expected
              """;
        await using SqliteCommand command = SqliteCommands.Create(writer.Connection, null, sql)
            .With("$k", ResourceIds.Key(group.Name)).With("$s", Subscription(group.SubscriptionId)).With("$name", group.Name)
            .With("$location", group.Location).With("$tags", SqliteCommands.ToJson(group.Tags, ControlPlaneJson.Default.IReadOnlyDictionaryStringString))
            .With("$version", group.Version).With("$state", group.State.ToString())
            .With("$created", SqliteDatabase.ToUnixMilliseconds(group.CreatedAt)).With("$expected", expectedVersion);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1 ? WriteOutcome.Written : WriteOutcome.Conflict;
    }

    public async Task<WriteOutcome> RemoveAsync(string subscriptionId, string name, long expectedVersion, CancellationToken cancellationToken)
    {
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using (SqliteCommand delete = SqliteCommands.Create(writer.Connection, null, """
            DELETE FROM resource_groups WHERE subscription_id = $s AND name_key = $k AND version = $expected
            AND NOT EXISTS (SELECT 1 FROM virtual_machines WHERE subscription_id = $s AND group_key = $k)
            """).With("$s", Subscription(subscriptionId)).With("$k", ResourceIds.Key(name)).With("$expected", expectedVersion))
        {
            if (await delete.ExecuteNonQueryAsync(cancellationToken) == 1)
                return WriteOutcome.Written;
        }

        await using SqliteCommand why = SqliteCommands.Create(writer.Connection, null,
            "SELECT EXISTS (SELECT 1 FROM virtual_machines WHERE subscription_id = $s AND group_key = $k)")
            .With("$s", Subscription(subscriptionId)).With("$k", ResourceIds.Key(name));
        return (long)(await why.ExecuteScalarAsync(cancellationToken))! == 1 ? WriteOutcome.NotEmpty : WriteOutcome.Conflict;
    }

    public async Task SaveOperationAsync(OperationRecord operation, CancellationToken cancellationToken)
    {
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        await SqliteOperationStore.UpsertAsync(writer.Connection, null, operation, cancellationToken);
    }

    internal static string Subscription(string subscriptionId) => subscriptionId.ToLowerInvariant();

    private static ResourceGroupRecord Read(SqliteDataReader reader) => new()
    {
        SubscriptionId = reader.GetString(0),
        Name = reader.GetString(1),
        Location = reader.GetString(2),
        Tags = SqliteCommands.FromJson(reader, 3, ControlPlaneJson.Default.IReadOnlyDictionaryStringString),
        Version = reader.GetInt64(4),
        State = SqliteCommands.ParseEnum<ResourceGroupState>(reader.GetString(5)),
        CreatedAt = SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(6)),
    };
}
