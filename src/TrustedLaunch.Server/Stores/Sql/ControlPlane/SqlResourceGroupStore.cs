using System.Data.Common;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Stores.Sql.ControlPlane;

/// <summary><see cref="IResourceGroupStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL).</summary>
public sealed class SqlResourceGroupStore(StoreDatabase database) : IResourceGroupStore
{
    private const string Columns = "subscription_id, name, location, tags_json, version, state, created_at";

    public async Task<ResourceGroupRecord?> GetAsync(string subscriptionId, string name, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
            $"SELECT {Columns} FROM resource_groups WHERE subscription_id = @s AND name_key = @k")
            .With("@s", Subscription(subscriptionId)).With("@k", ResourceIds.Key(name));
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<ResourceGroupRecord>> ListAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
            $"SELECT {Columns} FROM resource_groups WHERE subscription_id = @s ORDER BY name_key").With("@s", Subscription(subscriptionId));
        var groups = new List<ResourceGroupRecord>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            groups.Add(Read(reader));
        return groups;
    }

    public async Task<WriteOutcome> SaveAsync(ResourceGroupRecord group, long? expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(group);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        string sql = expectedVersion is null
            ? $"""
              INSERT INTO resource_groups (name_key, {Columns}) VALUES (@k, @s, @name, @location, @tags, @version, @state, @created)
              ON CONFLICT (subscription_id, name_key) DO NOTHING
              """
            : """
              UPDATE resource_groups SET tags_json = @tags, version = @version, state = @state, location = @location
              WHERE subscription_id = @s AND name_key = @k AND version = @expected
              """;
        await using DbCommand command = SqlCommands.Create(writer.Connection, null, sql)
            .With("@k", ResourceIds.Key(group.Name)).With("@s", Subscription(group.SubscriptionId)).With("@name", group.Name)
            .With("@location", group.Location).With("@tags", SqlCommands.ToJson(group.Tags, ControlPlaneJson.Default.IReadOnlyDictionaryStringString))
            .With("@version", group.Version).With("@state", group.State.ToString())
            .With("@created", StoreDatabase.ToUnixMilliseconds(group.CreatedAt)).With("@expected", expectedVersion);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1 ? WriteOutcome.Written : WriteOutcome.Conflict;
    }

    public async Task<WriteOutcome> RemoveAsync(string subscriptionId, string name, long expectedVersion, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbTransaction transaction = await database.BeginWriteTransactionAsync(writer.Connection, cancellationToken);
        await using (DbCommand delete = SqlCommands.Create(writer.Connection, transaction, $"""
            DELETE FROM resource_groups WHERE subscription_id = @s AND name_key = @g AND version = @expected AND {NoMembers}
            """).With("@s", Subscription(subscriptionId)).With("@g", ResourceIds.Key(name)).With("@expected", expectedVersion))
        {
            if (await delete.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                // The group's network resources, VM extensions and deployments go with it, in the same transaction: a
                // group of the same name created later starts empty. (Their subscription ids are stored as sent.)
                foreach (string table in (string[])["arm_resources", "deployments"])
                {
                    await using DbCommand members = SqlCommands.Create(writer.Connection, transaction,
                        $"DELETE FROM {table} WHERE LOWER(subscription_id) = @s AND group_key = @k")
                        .With("@s", Subscription(subscriptionId)).With("@k", ResourceIds.Key(name));
                    await members.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                return WriteOutcome.Written;
            }
        }

        await using DbCommand why = SqlCommands.Create(writer.Connection, transaction, $"SELECT {MemberCount}")
            .With("@s", Subscription(subscriptionId)).With("@g", ResourceIds.Key(name));
        return (long)(await why.ExecuteScalarAsync(cancellationToken))! > 0 ? WriteOutcome.NotEmpty : WriteOutcome.Conflict;
    }

    public async Task SaveOperationAsync(OperationRecord operation, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await SqlOperationStore.UpsertAsync(writer.Connection, null, operation, cancellationToken);
    }

    internal static string Subscription(string subscriptionId) => subscriptionId.ToLowerInvariant();

    /// <summary>The tables whose rows are a group's members and keep it from being removed: a store of a new member kind adds its table here.</summary>
    private static readonly string[] MemberTables = ["virtual_machines", "snapshots", "disks"];

    /// <summary>SQL condition: the group <c>@s</c>/<c>@g</c> has no member left.</summary>
    private static readonly string NoMembers =
        string.Join(" AND ", MemberTables.Select(table => $"NOT EXISTS (SELECT 1 FROM {table} WHERE subscription_id = @s AND group_key = @g)"));

    private static readonly string MemberCount =
        string.Join(" + ", MemberTables.Select(table => $"(SELECT COUNT(*) FROM {table} WHERE subscription_id = @s AND group_key = @g)"));

    /// <summary>
    /// Inside the write transaction that removed a member's row: the last member of a group being deleted takes the group with it.
    /// </summary>
    internal static async Task RemoveIfDeletingAndEmptyAsync(DbConnection connection, DbTransaction transaction, string subscriptionId,
        string groupKey, CancellationToken cancellationToken)
    {
        await using DbCommand group = SqlCommands.Create(connection, transaction,
                $"DELETE FROM resource_groups WHERE subscription_id = @s AND name_key = @g AND state = 'Deleting' AND {NoMembers}")
            .With("@s", Subscription(subscriptionId)).With("@g", groupKey);
        await group.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Inside a write transaction: null when the group exists and is not being deleted, so a new resource may join it;
    /// else why not. Every store that creates a resource in a group asks this, in the same transaction as its insert.
    /// </summary>
    internal static async Task<WriteOutcome?> RefuseNewMemberAsync(DbConnection connection, DbTransaction transaction, string subscriptionId,
        string groupKey, CancellationToken cancellationToken)
    {
        await using DbCommand state = SqlCommands.Create(connection, transaction, "SELECT state FROM resource_groups WHERE subscription_id = @s AND name_key = @g")
            .With("@s", Subscription(subscriptionId)).With("@g", groupKey);
        return await state.ExecuteScalarAsync(cancellationToken) switch
        {
            null => WriteOutcome.ResourceGroupMissing,
            string s when s != nameof(ResourceGroupState.Succeeded) => WriteOutcome.ResourceGroupDeleting,
            _ => null,
        };
    }

    private static ResourceGroupRecord Read(DbDataReader reader) => new()
    {
        SubscriptionId = reader.GetString(0),
        Name = reader.GetString(1),
        Location = reader.GetString(2),
        Tags = SqlCommands.FromJson(reader, 3, ControlPlaneJson.Default.IReadOnlyDictionaryStringString),
        Version = reader.GetInt64(4),
        State = SqlCommands.ParseEnum<ResourceGroupState>(reader.GetString(5)),
        CreatedAt = StoreDatabase.FromUnixMilliseconds(reader.GetInt64(6)),
    };
}
