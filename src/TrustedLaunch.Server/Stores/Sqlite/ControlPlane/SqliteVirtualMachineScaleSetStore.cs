using System.Text;
using Microsoft.Data.Sqlite;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.ScaleSets;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Stores.Sqlite.ControlPlane;

/// <summary>
/// <see cref="IVirtualMachineScaleSetStore"/> on SQLite: one row per scale set, its model as JSON. A write is one
/// <c>BEGIN IMMEDIATE</c> transaction: the resource-group check (insert), the row (compare-and-swap on <c>version</c>)
/// and the operations.
/// </summary>
public sealed class SqliteVirtualMachineScaleSetStore(SqliteDatabase database) : IVirtualMachineScaleSetStore
{
    private const string Columns = """
        subscription_id, resource_group, name, unique_id, location, version, model_json, provisioning_state, pending_operation_id, time_created
        """;

    private const string Key = "subscription_id = $s AND group_key = $g AND name_key = $n";

    public async Task<VirtualMachineScaleSetRecord?> GetAsync(ScaleSetKey key, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = KeyParameters(SqliteCommands.Create(connection, null,
            $"SELECT {Columns} FROM virtual_machine_scale_sets WHERE {Key}"), key);
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<VirtualMachineScaleSetRecord>> ListAsync(string subscriptionId, string? resourceGroup,
        CancellationToken cancellationToken)
    {
        var sql = new StringBuilder($"SELECT {Columns} FROM virtual_machine_scale_sets WHERE subscription_id = $s");
        if (resourceGroup is not null)
            sql.Append(" AND group_key = $g");
        sql.Append(" ORDER BY group_key, name_key");
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = SqliteCommands.Create(connection, null, sql.ToString())
            .With("$s", SqliteResourceGroupStore.Subscription(subscriptionId))
            .With("$g", resourceGroup is null ? null : ResourceIds.Key(resourceGroup));
        var scaleSets = new List<VirtualMachineScaleSetRecord>();
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            scaleSets.Add(Read(reader));
        return scaleSets;
    }

    public async Task<WriteOutcome> SaveAsync(VirtualMachineScaleSetRecord scaleSet, long? expectedVersion, IReadOnlyList<OperationRecord> operations,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scaleSet);
        ArgumentNullException.ThrowIfNull(operations);
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        SqliteConnection connection = writer.Connection;
        await using SqliteTransaction transaction = connection.BeginTransaction(deferred: false);
        ScaleSetKey key = scaleSet.Key;
        if (expectedVersion is null)
        {
            await using SqliteCommand state = KeyParameters(SqliteCommands.Create(connection, transaction,
                "SELECT state FROM resource_groups WHERE subscription_id = $s AND name_key = $g"), key);
            switch (await state.ExecuteScalarAsync(cancellationToken))
            {
                case null:
                    return WriteOutcome.ResourceGroupMissing;
                case string s when s != nameof(ResourceGroupState.Succeeded):
                    return WriteOutcome.ResourceGroupDeleting;
            }
        }

        string sql = expectedVersion is null
            ? $"""
              INSERT INTO virtual_machine_scale_sets (group_key, name_key, {Columns})
              VALUES ($g, $n, $s, $rg, $name, $uid, $location, $version, $model, $prov, $pending, $created)
              ON CONFLICT (subscription_id, group_key, name_key) DO NOTHING
              """
            : $"""
              UPDATE virtual_machine_scale_sets SET version = $version, model_json = $model, provisioning_state = $prov,
              pending_operation_id = $pending, location = $location WHERE {Key} AND version = $expected
              """;
        await using (SqliteCommand command = KeyParameters(SqliteCommands.Create(connection, transaction, sql), key)
            .With("$rg", scaleSet.ResourceGroup).With("$name", scaleSet.Name).With("$uid", scaleSet.UniqueId.ToString("D"))
            .With("$location", scaleSet.Location).With("$version", scaleSet.Version)
            .With("$model", SqliteCommands.ToJson(scaleSet.Model, ControlPlaneJson.Default.VirtualMachineScaleSetResource))
            .With("$prov", scaleSet.ProvisioningState.ToString()).With("$pending", scaleSet.PendingOperationId)
            .With("$created", SqliteDatabase.ToUnixMilliseconds(scaleSet.TimeCreated)).With("$expected", expectedVersion))
        {
            if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
                return WriteOutcome.Conflict; // disposing the transaction rolls it back
        }

        foreach (OperationRecord operation in operations)
            await SqliteOperationStore.UpsertAsync(connection, transaction, operation, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return WriteOutcome.Written;
    }

    public async Task<WriteOutcome> RemoveAsync(ScaleSetKey key, long expectedVersion, OperationRecord? operation, CancellationToken cancellationToken)
    {
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        SqliteConnection connection = writer.Connection;
        await using SqliteTransaction transaction = connection.BeginTransaction(deferred: false);
        await using (SqliteCommand delete = KeyParameters(SqliteCommands.Create(connection, transaction,
            $"DELETE FROM virtual_machine_scale_sets WHERE {Key} AND version = $expected"), key).With("$expected", expectedVersion))
        {
            if (await delete.ExecuteNonQueryAsync(cancellationToken) != 1)
                return WriteOutcome.Conflict;
        }

        if (operation is not null)
            await SqliteOperationStore.UpsertAsync(connection, transaction, operation, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return WriteOutcome.Written;
    }

    private static SqliteCommand KeyParameters(SqliteCommand command, ScaleSetKey key) =>
        command.With("$s", SqliteResourceGroupStore.Subscription(key.SubscriptionId)).With("$g", key.ResourceGroupKey).With("$n", key.NameKey);

    private static VirtualMachineScaleSetRecord Read(SqliteDataReader reader) => new()
    {
        SubscriptionId = reader.GetString(0),
        ResourceGroup = reader.GetString(1),
        Name = reader.GetString(2),
        UniqueId = Guid.Parse(reader.GetString(3)),
        Location = reader.GetString(4),
        Version = reader.GetInt64(5),
        Model = SqliteCommands.FromJson(reader, 6, ControlPlaneJson.Default.VirtualMachineScaleSetResource)
            ?? throw new StoreException("A scale set row has no model."),
        ProvisioningState = SqliteCommands.ParseEnum<ProvisioningState>(reader.GetString(7)),
        PendingOperationId = SqliteCommands.NullableString(reader, 8),
        TimeCreated = SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(9)),
    };
}
