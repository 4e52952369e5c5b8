using System.Text;
using System.Data.Common;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.ScaleSets;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Stores.Sql.ControlPlane;

/// <summary>
/// <see cref="IVirtualMachineScaleSetStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL): one row per scale set, its model as JSON. A write is one
/// <c>write</c> transaction: the resource-group check (insert), the row (compare-and-swap on <c>version</c>)
/// and the operations.
/// </summary>
public sealed class SqlVirtualMachineScaleSetStore(StoreDatabase database) : IVirtualMachineScaleSetStore
{
    private const string Columns = """
        subscription_id, resource_group, name, unique_id, location, version, model_json, provisioning_state, pending_operation_id, time_created
        """;

    private const string Key = "subscription_id = @s AND group_key = @g AND name_key = @n";

    public async Task<VirtualMachineScaleSetRecord?> GetAsync(ScaleSetKey key, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = KeyParameters(SqlCommands.Create(connection, null,
            $"SELECT {Columns} FROM virtual_machine_scale_sets WHERE {Key}"), key);
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<VirtualMachineScaleSetRecord>> ListAsync(string subscriptionId, string? resourceGroup,
        CancellationToken cancellationToken)
    {
        var sql = new StringBuilder($"SELECT {Columns} FROM virtual_machine_scale_sets WHERE subscription_id = @s");
        if (resourceGroup is not null)
            sql.Append(" AND group_key = @g");
        sql.Append(" ORDER BY group_key, name_key");
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, sql.ToString())
            .With("@s", SqlResourceGroupStore.Subscription(subscriptionId))
            .With("@g", resourceGroup is null ? null : ResourceIds.Key(resourceGroup));
        var scaleSets = new List<VirtualMachineScaleSetRecord>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            scaleSets.Add(Read(reader));
        return scaleSets;
    }

    public async Task<WriteOutcome> SaveAsync(VirtualMachineScaleSetRecord scaleSet, long? expectedVersion, IReadOnlyList<OperationRecord> operations,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scaleSet);
        ArgumentNullException.ThrowIfNull(operations);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using DbTransaction transaction = await database.BeginWriteTransactionAsync(connection, cancellationToken);
        ScaleSetKey key = scaleSet.Key;
        if (expectedVersion is null)
        {
            if (await SqlResourceGroupStore.RefuseNewMemberAsync(connection, transaction, key.SubscriptionId, key.ResourceGroupKey, cancellationToken)
                is WriteOutcome refused)
                return refused;
        }

        string sql = expectedVersion is null
            ? $"""
              INSERT INTO virtual_machine_scale_sets (group_key, name_key, {Columns})
              VALUES (@g, @n, @s, @rg, @name, @uid, @location, @version, @model, @prov, @pending, @created)
              ON CONFLICT (subscription_id, group_key, name_key) DO NOTHING
              """
            : $"""
              UPDATE virtual_machine_scale_sets SET version = @version, model_json = @model, provisioning_state = @prov,
              pending_operation_id = @pending, location = @location WHERE {Key} AND version = @expected
              """;
        await using (DbCommand command = KeyParameters(SqlCommands.Create(connection, transaction, sql), key)
            .With("@rg", scaleSet.ResourceGroup).With("@name", scaleSet.Name).With("@uid", scaleSet.UniqueId.ToString("D"))
            .With("@location", scaleSet.Location).With("@version", scaleSet.Version)
            .With("@model", SqlCommands.ToJson(scaleSet.Model, ControlPlaneJson.Default.VirtualMachineScaleSetResource))
            .With("@prov", scaleSet.ProvisioningState.ToString()).With("@pending", scaleSet.PendingOperationId)
            .With("@created", StoreDatabase.ToUnixMilliseconds(scaleSet.TimeCreated)).With("@expected", expectedVersion))
        {
            if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
                return WriteOutcome.Conflict; // disposing the transaction rolls it back
        }

        foreach (OperationRecord operation in operations)
            await SqlOperationStore.UpsertAsync(connection, transaction, operation, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return WriteOutcome.Written;
    }

    public async Task<WriteOutcome> RemoveAsync(ScaleSetKey key, long expectedVersion, OperationRecord? operation, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using DbTransaction transaction = await database.BeginWriteTransactionAsync(connection, cancellationToken);
        await using (DbCommand delete = KeyParameters(SqlCommands.Create(connection, transaction,
            $"DELETE FROM virtual_machine_scale_sets WHERE {Key} AND version = @expected"), key).With("@expected", expectedVersion))
        {
            if (await delete.ExecuteNonQueryAsync(cancellationToken) != 1)
                return WriteOutcome.Conflict;
        }

        if (operation is not null)
            await SqlOperationStore.UpsertAsync(connection, transaction, operation, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return WriteOutcome.Written;
    }

    private static DbCommand KeyParameters(DbCommand command, ScaleSetKey key) =>
        command.With("@s", SqlResourceGroupStore.Subscription(key.SubscriptionId)).With("@g", key.ResourceGroupKey).With("@n", key.NameKey);

    private static VirtualMachineScaleSetRecord Read(DbDataReader reader) => new()
    {
        SubscriptionId = reader.GetString(0),
        ResourceGroup = reader.GetString(1),
        Name = reader.GetString(2),
        UniqueId = Guid.Parse(reader.GetString(3)),
        Location = reader.GetString(4),
        Version = reader.GetInt64(5),
        Model = SqlCommands.FromJson(reader, 6, ControlPlaneJson.Default.VirtualMachineScaleSetResource)
            ?? throw new StoreException("A scale set row has no model."),
        ProvisioningState = SqlCommands.ParseEnum<ProvisioningState>(reader.GetString(7)),
        PendingOperationId = SqlCommands.NullableString(reader, 8),
        TimeCreated = StoreDatabase.FromUnixMilliseconds(reader.GetInt64(9)),
    };
}
