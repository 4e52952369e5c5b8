using System.Data.Common;
using System.Text;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Snapshots;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Stores.Sql.ControlPlane;

/// <summary>
/// <see cref="ISnapshotStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL), table <c>snapshots</c>: one row per snapshot,
/// the record as JSON beside the columns it is found by. A write is one transaction: the resource group's admission (insert),
/// the row (compare-and-swap on <c>version</c>) and its operations.
/// </summary>
public sealed class SqlSnapshotStore(StoreDatabase database) : ISnapshotStore
{
    private const string Key = "subscription_id = @s AND group_key = @g AND name_key = @n";

    public async Task<SnapshotRecord?> GetAsync(SnapshotKey key, CancellationToken cancellationToken) =>
        await QueryAsync($"SELECT record_json FROM snapshots WHERE {Key}", c => KeyParameters(c, key), cancellationToken) is [var found] ? found : null;

    public async Task<SnapshotRecord?> GetByIdAsync(Guid snapshotId, CancellationToken cancellationToken) =>
        await QueryAsync("SELECT record_json FROM snapshots WHERE snapshot_id = @id", c => c.With("@id", snapshotId.ToString("D")), cancellationToken)
            is [var found] ? found : null;

    public Task<IReadOnlyList<SnapshotRecord>> ListAsync(string subscriptionId, string? resourceGroup, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder("SELECT record_json FROM snapshots WHERE subscription_id = @s");
        if (resourceGroup is not null)
            sql.Append(" AND group_key = @g");
        sql.Append(" ORDER BY group_key, name_key");
        return QueryAsync(sql.ToString(), c => c.With("@s", SqlResourceGroupStore.Subscription(subscriptionId))
            .With("@g", resourceGroup is null ? null : ResourceIds.Key(resourceGroup)), cancellationToken);
    }

    public Task<IReadOnlyList<SnapshotRecord>> ListByHostAsync(string hostName, CancellationToken cancellationToken) =>
        QueryAsync("SELECT record_json FROM snapshots WHERE host_key = @h ORDER BY snapshot_id", c => c.With("@h", ResourceIds.Key(hostName)), cancellationToken);

    public async Task<WriteOutcome> WriteAsync(SnapshotWrite write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using DbTransaction transaction = await database.BeginWriteTransactionAsync(connection, cancellationToken);
        SnapshotKey key = write.Key;
        string sql;
        if (write.Record is not SnapshotRecord record)
        {
            sql = $"DELETE FROM snapshots WHERE {Key} AND version = @expected";
        }
        else if (write.ExpectedVersion is null)
        {
            if (await SqlResourceGroupStore.RefuseNewMemberAsync(connection, transaction, key.SubscriptionId, key.ResourceGroupKey, cancellationToken)
                is WriteOutcome refused)
                return refused;
            sql = """
                INSERT INTO snapshots (subscription_id, group_key, name_key, snapshot_id, host_key, provisioning_state, version, record_json)
                VALUES (@s, @g, @n, @id, @h, @prov, @version, @record)
                ON CONFLICT (subscription_id, group_key, name_key) DO NOTHING
                """;
        }
        else
        {
            sql = $"UPDATE snapshots SET provisioning_state = @prov, version = @version, record_json = @record WHERE {Key} AND version = @expected";
        }

        await using (DbCommand command = KeyParameters(SqlCommands.Create(connection, transaction, sql), key)
            .With("@expected", write.ExpectedVersion)
            .With("@id", write.Record?.SnapshotId.ToString("D"))
            .With("@h", write.Record is null ? null : ResourceIds.Key(write.Record.HostName))
            .With("@prov", write.Record?.ProvisioningState.ToString())
            .With("@version", write.Record?.Version)
            .With("@record", SqlCommands.ToJson(write.Record, ControlPlaneJson.Default.SnapshotRecord)))
        {
            if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
                return WriteOutcome.Conflict; // disposing the transaction rolls it back
        }

        if (write.Record is null)
        {
            // The last member of a group being deleted takes the group with it (as the last VM does).
            await SqlResourceGroupStore.RemoveIfDeletingAndEmptyAsync(connection, transaction, key.SubscriptionId, key.ResourceGroupKey, cancellationToken);
        }

        foreach (OperationRecord operation in write.Operations)
            await SqlOperationStore.UpsertAsync(connection, transaction, operation, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return WriteOutcome.Written;
    }

    private Task<IReadOnlyList<SnapshotRecord>> QueryAsync(string sql, Func<DbCommand, DbCommand> parameters, CancellationToken cancellationToken) =>
        SqlCommands.QueryJsonAsync(database, sql, parameters, ControlPlaneJson.Default.SnapshotRecord, cancellationToken);

    private static DbCommand KeyParameters(DbCommand command, SnapshotKey key) =>
        command.With("@s", SqlResourceGroupStore.Subscription(key.SubscriptionId)).With("@g", key.ResourceGroupKey).With("@n", key.NameKey);
}
