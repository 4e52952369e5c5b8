using System.Data.Common;
using System.Text;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Disks;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Stores.Sql.ControlPlane;

/// <summary>
/// <see cref="IDiskStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL), table <c>disks</c>: one row per disk, the record
/// as JSON beside the columns it is found by (key, uniqueId, the VM it is attached to, the host of an Unattached one). A write is
/// one transaction: the resource group's admission (insert), the row (compare-and-swap on <c>version</c>) and its operations;
/// a VM's write changes its OS disk's row inside the VM's own transaction (<see cref="WriteRowAsync"/>).
/// </summary>
public sealed class SqlDiskStore(StoreDatabase database) : IDiskStore
{
    private const string Key = "subscription_id = @s AND group_key = @g AND name_key = @n";

    public async Task<DiskRecord?> GetAsync(DiskKey key, CancellationToken cancellationToken) =>
        await QueryAsync($"SELECT record_json FROM disks WHERE {Key}", c => KeyParameters(c, key), cancellationToken) is [var found] ? found : null;

    public async Task<DiskRecord?> GetByIdAsync(Guid diskId, CancellationToken cancellationToken) =>
        await QueryAsync("SELECT record_json FROM disks WHERE disk_id = @id", c => c.With("@id", diskId.ToString("D")), cancellationToken)
            is [var found] ? found : null;

    public async Task<DiskRecord?> GetByManagerAsync(Guid vmId, CancellationToken cancellationToken) =>
        await QueryAsync("SELECT record_json FROM disks WHERE managed_by_vm_id = @vm", c => c.With("@vm", vmId.ToString("D")), cancellationToken)
            is [var found, ..] ? found : null;

    public Task<IReadOnlyList<DiskRecord>> ListAsync(string subscriptionId, string? resourceGroup, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder("SELECT record_json FROM disks WHERE subscription_id = @s");
        if (resourceGroup is not null)
            sql.Append(" AND group_key = @g");
        sql.Append(" ORDER BY group_key, name_key");
        return QueryAsync(sql.ToString(), c => c.With("@s", SqlResourceGroupStore.Subscription(subscriptionId))
            .With("@g", resourceGroup is null ? null : ResourceIds.Key(resourceGroup)), cancellationToken);
    }

    public Task<IReadOnlyList<DiskRecord>> ListByHostAsync(string hostName, CancellationToken cancellationToken) =>
        QueryAsync("SELECT record_json FROM disks WHERE host_key = @h ORDER BY disk_id", c => c.With("@h", ResourceIds.Key(hostName)), cancellationToken);

    public async Task<WriteOutcome> WriteAsync(DiskWrite write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using DbTransaction transaction = await database.BeginWriteTransactionAsync(connection, cancellationToken);
        WriteOutcome outcome = await WriteRowAsync(connection, transaction, write, admission: true, cancellationToken);
        if (outcome != WriteOutcome.Written)
            return outcome; // disposing the transaction rolls it back
        foreach (OperationRecord operation in write.Operations)
            await SqlOperationStore.UpsertAsync(connection, transaction, operation, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return WriteOutcome.Written;
    }

    /// <summary>
    /// The row's change inside a caller's transaction. <paramref name="admission"/> false: the caller (a VM's write, whose row is in
    /// the same group) has settled the group already, and a disk detached while its group is being deleted must still get its row.
    /// </summary>
    internal static async Task<WriteOutcome> WriteRowAsync(DbConnection connection, DbTransaction transaction, DiskWrite write, bool admission,
        CancellationToken cancellationToken)
    {
        DiskKey key = write.Key;
        string sql;
        if (write.Record is not DiskRecord record)
        {
            sql = $"DELETE FROM disks WHERE {Key} AND version = @expected";
        }
        else if (write.ExpectedVersion is null)
        {
            if (admission && await SqlResourceGroupStore.RefuseNewMemberAsync(connection, transaction, key.SubscriptionId, key.ResourceGroupKey, cancellationToken)
                is WriteOutcome refused)
                return refused;
            sql = """
                INSERT INTO disks (subscription_id, group_key, name_key, disk_id, managed_by_vm_id, host_key, provisioning_state, version, record_json)
                VALUES (@s, @g, @n, @id, @vm, @h, @prov, @version, @record)
                ON CONFLICT DO NOTHING
                """;
        }
        else
        {
            sql = $"""
                UPDATE disks SET managed_by_vm_id = @vm, host_key = @h, provisioning_state = @prov, version = @version, record_json = @record
                WHERE {Key} AND version = @expected
                """;
        }

        DiskRecord? next = write.Record;
        await using (DbCommand command = KeyParameters(SqlCommands.Create(connection, transaction, sql), key)
            .With("@expected", write.ExpectedVersion)
            .With("@id", next?.DiskId.ToString("D"))
            .With("@vm", next?.ManagedByVmId?.ToString("D"))
            // Only an Unattached disk is kept by a host on its own; an attached one goes where its VM goes.
            .With("@h", next is { State: DiskState.Unattached, HostName: string host } ? ResourceIds.Key(host) : null)
            .With("@prov", next?.ProvisioningState.ToString())
            .With("@version", next?.Version)
            .With("@record", SqlCommands.ToJson(next, ControlPlaneJson.Default.DiskRecord)))
        {
            if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
                return WriteOutcome.Conflict;
        }

        if (next is null)
        {
            // The last member of a group being deleted takes the group with it (as the last VM does).
            await SqlResourceGroupStore.RemoveIfDeletingAndEmptyAsync(connection, transaction, key.SubscriptionId, key.ResourceGroupKey, cancellationToken);
        }

        return WriteOutcome.Written;
    }

    private Task<IReadOnlyList<DiskRecord>> QueryAsync(string sql, Func<DbCommand, DbCommand> parameters, CancellationToken cancellationToken) =>
        SqlCommands.QueryJsonAsync(database, sql, parameters, ControlPlaneJson.Default.DiskRecord, cancellationToken);

    private static DbCommand KeyParameters(DbCommand command, DiskKey key) =>
        command.With("@s", SqlResourceGroupStore.Subscription(key.SubscriptionId)).With("@g", key.ResourceGroupKey).With("@n", key.NameKey);
}
