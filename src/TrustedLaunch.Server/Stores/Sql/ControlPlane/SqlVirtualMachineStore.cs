using System.Text;
using System.Data.Common;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Stores.Sql.ControlPlane;

/// <summary>
/// <see cref="IVirtualMachineStore"/> on <see cref="StoreDatabase"/>. A write is one <see cref="StoreDatabase.BeginWriteTransactionAsync"/> transaction: the resource-group
/// and capacity checks, the row (compare-and-swap on <c>change_seq</c>), and the operations; any refusal rolls it all back.
/// </summary>
public sealed class SqlVirtualMachineStore(StoreDatabase database) : IVirtualMachineStore
{
    private const string Columns = """
        subscription_id, resource_group, name, vm_id, location, version, model_json, provisioning_state, desired_power, actual_power,
        host_name, vcpus, memory_mb, generation, pending_operation_id, restart_generation, time_created, report_json, change_seq,
        attestation_generation, secure_boot_key_update_json
        """;

    private const string Key = "subscription_id = @s AND group_key = @g AND name_key = @n";

    public async Task<VirtualMachineRecord?> GetAsync(VirtualMachineKey key, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = KeyParameters(SqlCommands.Create(connection, null, $"SELECT {Columns} FROM virtual_machines WHERE {Key}"), key);
        return await ReadOneAsync(command, cancellationToken);
    }

    public async Task<VirtualMachineRecord?> GetByVmIdAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, $"SELECT {Columns} FROM virtual_machines WHERE vm_id = @id")
            .With("@id", vmId.ToString("D"));
        return await ReadOneAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<VirtualMachineRecord>> GetByVmIdsAsync(IReadOnlyCollection<Guid> vmIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vmIds);
        var found = new List<VirtualMachineRecord>(vmIds.Count);
        // Bound per statement: SQLite binds each id.
        foreach (Guid[] chunk in vmIds.Chunk(500))
        {
            await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
            await using DbCommand command = SqlCommands.Create(connection, null,
                $"SELECT {Columns} FROM virtual_machines WHERE vm_id IN ({string.Join(",", chunk.Select((_, i) => "@v" + i))})");
            for (int i = 0; i < chunk.Length; i++)
                command.With("@v" + i, chunk[i].ToString("D"));
            await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                found.Add(Read(reader));
        }

        return found;
    }

    public async Task<Page<VirtualMachineRecord>> ListAsync(string subscriptionId, string? resourceGroup, string? continuationToken, int pageSize,
        CancellationToken cancellationToken)
    {
        (string Group, string Name)? after = Decode(continuationToken);
        var sql = new StringBuilder($"SELECT {Columns}, group_key, name_key FROM virtual_machines WHERE subscription_id = @s");
        if (resourceGroup is not null)
            sql.Append(" AND group_key = @g");
        if (after is not null)
            sql.Append(" AND (group_key, name_key) > (@ag, @an)");
        sql.Append(" ORDER BY group_key, name_key LIMIT @limit");
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, sql.ToString())
            .With("@s", SqlResourceGroupStore.Subscription(subscriptionId))
            .With("@g", resourceGroup is null ? null : ResourceIds.Key(resourceGroup))
            .With("@ag", after?.Group).With("@an", after?.Name).With("@limit", pageSize + 1);
        var items = new List<VirtualMachineRecord>(Math.Min(pageSize + 1, 1024));
        string? lastGroup = null, lastName = null;
        await using (DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (items.Count == pageSize)
                    return new Page<VirtualMachineRecord>(items, Encode(lastGroup!, lastName!));
                items.Add(Read(reader));
                lastGroup = reader.GetString(21);
                lastName = reader.GetString(22);
            }
        }

        return new Page<VirtualMachineRecord>(items, null);
    }

    public Task<IReadOnlyList<VirtualMachineRecord>> ListByHostAsync(string hostName, CancellationToken cancellationToken) =>
        ListWhereAsync("host_key = @h ORDER BY time_created, vm_id", "@h", ResourceIds.Key(hostName), cancellationToken);

    public Task<IReadOnlyList<VirtualMachineRecord>> ListUnplacedAsync(CancellationToken cancellationToken) =>
        ListWhereAsync("host_key IS NULL AND provisioning_state = @state ORDER BY time_created, vm_id", "@state", nameof(ProvisioningState.Creating),
            cancellationToken);

    public async Task<WriteOutcome> WriteAsync(VirtualMachineWrite write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using DbTransaction transaction = await database.BeginWriteTransactionAsync(connection, cancellationToken);
        // The OS disk's row first: a VM removed last in a group being deleted takes the group with it only when no disk of it stays.
        if (write.OsDisk is TrustedLaunch.ControlPlane.Disks.DiskWrite disk
            && await SqlDiskStore.WriteRowAsync(connection, transaction, disk, admission: false, cancellationToken) != WriteOutcome.Written)
            return WriteOutcome.Conflict; // disposing the transaction rolls it back
        WriteOutcome outcome = await WriteRowAsync(connection, transaction, write, cancellationToken);
        if (outcome != WriteOutcome.Written)
            return outcome;
        foreach (OperationRecord operation in write.Operations)
            await SqlOperationStore.UpsertAsync(connection, transaction, operation, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return WriteOutcome.Written;
    }

    private static async Task<WriteOutcome> WriteRowAsync(DbConnection connection, DbTransaction transaction, VirtualMachineWrite write,
        CancellationToken cancellationToken)
    {
        VirtualMachineKey key = write.Key;
        if (write.Record is null)
        {
            if (write.ExpectedSequence is not long expected)
                throw new ArgumentException("Removing a VM needs the sequence it was read at.", nameof(write));
            await using (DbCommand delete = KeyParameters(SqlCommands.Create(connection, transaction,
                $"DELETE FROM virtual_machines WHERE {Key} AND change_seq = @expected"), key).With("@expected", expected))
            {
                if (await delete.ExecuteNonQueryAsync(cancellationToken) != 1)
                    return WriteOutcome.Conflict;
            }

            // The last VM of a group being deleted takes the group with it.
            await SqlResourceGroupStore.RemoveIfDeletingAndEmptyAsync(connection, transaction, key.SubscriptionId, key.ResourceGroupKey, cancellationToken);
            return WriteOutcome.Written;
        }

        if (write.ExpectedSequence is null)
        {
            if (await SqlResourceGroupStore.RefuseNewMemberAsync(connection, transaction, key.SubscriptionId, key.ResourceGroupKey, cancellationToken)
                is WriteOutcome refused)
                return refused;
        }

        if (write.Capacity is CapacityGuard guard && !await HasRoomAsync(connection, transaction, key, write.Record, guard, cancellationToken))
            return WriteOutcome.CapacityExceeded;

        long sequence;
        await using (DbCommand next = SqlCommands.Create(connection, transaction, "UPDATE change_sequence SET value = value + 1 WHERE id = 1 RETURNING value"))
            sequence = (long)(await next.ExecuteScalarAsync(cancellationToken))!;
        string sql = write.ExpectedSequence is null
            ? $"""
              INSERT INTO virtual_machines (group_key, name_key, host_key, {Columns})
              VALUES (@g, @n, @hk, @s, @rg, @name, @vmid, @location, @version, @model, @prov, @desired, @actual,
                      @host, @vcpus, @mem, @gen, @pending, @restart, @created, @report, @seq, @attest, @keys)
              ON CONFLICT DO NOTHING
              """
            : $"""
              UPDATE virtual_machines SET version = @version, model_json = @model, provisioning_state = @prov, desired_power = @desired,
                  actual_power = @actual, host_key = @hk, host_name = @host, vcpus = @vcpus, memory_mb = @mem, pending_operation_id = @pending,
                  restart_generation = @restart, report_json = @report, change_seq = @seq, attestation_generation = @attest,
                  secure_boot_key_update_json = @keys
              WHERE {Key} AND change_seq = @expected
              """;
        VirtualMachineRecord vm = write.Record;
        await using DbCommand row = KeyParameters(SqlCommands.Create(connection, transaction, sql), key)
            .With("@rg", vm.ResourceGroup).With("@name", vm.Name).With("@vmid", vm.VmId.ToString("D")).With("@location", vm.Location)
            .With("@version", vm.Version).With("@model", SqlCommands.ToJson(vm.Model, ControlPlaneJson.Default.VirtualMachineModel))
            .With("@prov", vm.ProvisioningState.ToString()).With("@desired", vm.DesiredPower.ToString()).With("@actual", vm.ActualPower?.ToString())
            .With("@hk", vm.HostName is null ? null : ResourceIds.Key(vm.HostName)).With("@host", vm.HostName)
            .With("@vcpus", vm.VCpus).With("@mem", vm.MemoryInMB).With("@gen", vm.Generation.ToString()).With("@pending", vm.PendingOperationId)
            .With("@restart", vm.RestartGeneration).With("@created", StoreDatabase.ToUnixMilliseconds(vm.TimeCreated))
            .With("@report", SqlCommands.ToJson(vm.LastReport, ControlPlaneJson.Default.VmHostReport))
            .With("@seq", sequence).With("@expected", write.ExpectedSequence).With("@attest", vm.AttestationGeneration)
            .With("@keys", SqlCommands.ToJson(vm.SecureBootKeyUpdate, ControlPlaneJson.Default.SecureBootKeyUpdateRecord));
        return await row.ExecuteNonQueryAsync(cancellationToken) == 1 ? WriteOutcome.Written : WriteOutcome.Conflict;
    }

    // The VMs already on the host that are not deallocated (this VM's own row aside), plus this one, must fit.
    private static async Task<bool> HasRoomAsync(DbConnection connection, DbTransaction transaction, VirtualMachineKey key,
        VirtualMachineRecord vm, CapacityGuard guard, CancellationToken cancellationToken)
    {
        await using DbCommand used = KeyParameters(SqlCommands.Create(connection, transaction, $"""
            SELECT COALESCE(SUM(vcpus), 0), COALESCE(SUM(memory_mb), 0) FROM virtual_machines
            WHERE host_key = @h AND desired_power <> 'Deallocated' AND NOT ({Key})
            """), key).With("@h", ResourceIds.Key(guard.HostName));
        await using DbDataReader reader = await used.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetInt64(0) + vm.VCpus <= guard.HostVCpus && reader.GetInt64(1) + vm.MemoryInMB <= guard.HostMemoryInMB;
    }

    private async Task<IReadOnlyList<VirtualMachineRecord>> ListWhereAsync(string where, string parameter, string value, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, $"SELECT {Columns} FROM virtual_machines WHERE {where}")
            .With(parameter, value);
        var vms = new List<VirtualMachineRecord>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            vms.Add(Read(reader));
        return vms;
    }

    private static DbCommand KeyParameters(DbCommand command, VirtualMachineKey key) =>
        command.With("@s", SqlResourceGroupStore.Subscription(key.SubscriptionId)).With("@g", key.ResourceGroupKey).With("@n", key.NameKey);

    private static async Task<VirtualMachineRecord?> ReadOneAsync(DbCommand command, CancellationToken cancellationToken)
    {
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    private static VirtualMachineRecord Read(DbDataReader reader) => new()
    {
        SubscriptionId = reader.GetString(0),
        ResourceGroup = reader.GetString(1),
        Name = reader.GetString(2),
        VmId = Guid.Parse(reader.GetString(3)),
        Location = reader.GetString(4),
        Version = reader.GetInt64(5),
        Model = SqlCommands.FromJson(reader, 6, ControlPlaneJson.Default.VirtualMachineModel)
            ?? throw new StoreException("A virtual machine row has no model."),
        ProvisioningState = SqlCommands.ParseEnum<ProvisioningState>(reader.GetString(7)),
        DesiredPower = SqlCommands.ParseEnum<DesiredPowerState>(reader.GetString(8)),
        ActualPower = SqlCommands.NullableString(reader, 9) is string actual ? SqlCommands.ParseEnum<PowerState>(actual) : null,
        HostName = SqlCommands.NullableString(reader, 10),
        VCpus = reader.GetInt32(11),
        MemoryInMB = reader.GetInt32(12),
        Generation = SqlCommands.ParseEnum<HyperVGeneration>(reader.GetString(13)),
        PendingOperationId = SqlCommands.NullableString(reader, 14),
        RestartGeneration = reader.GetInt64(15),
        TimeCreated = StoreDatabase.FromUnixMilliseconds(reader.GetInt64(16)),
        LastReport = SqlCommands.FromJson(reader, 17, ControlPlaneJson.Default.VmHostReport),
        ChangeSequence = reader.GetInt64(18),
        AttestationGeneration = reader.GetInt64(19),
        SecureBootKeyUpdate = SqlCommands.FromJson(reader, 20, ControlPlaneJson.Default.SecureBootKeyUpdateRecord),
    };

    // The continuation token: the last (group, name) key of a page, base64url so it travels in a query string.
    private static string Encode(string group, string name) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(group + "\n" + name)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (string Group, string Name)? Decode(string? token)
    {
        if (string.IsNullOrEmpty(token))
            return null;
        try
        {
            string base64 = token.Replace('-', '+').Replace('_', '/');
            base64 += new string('=', (4 - base64.Length % 4) % 4);
            string[] parts = Encoding.UTF8.GetString(Convert.FromBase64String(base64)).Split('\n');
            return parts.Length == 2 ? (parts[0], parts[1]) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
