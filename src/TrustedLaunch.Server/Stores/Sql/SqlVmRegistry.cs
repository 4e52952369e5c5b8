using System.Data.Common;

namespace TrustedLaunch.Server.Stores.Sql;

/// <summary><see cref="IVmRegistry"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL).</summary>
public sealed class SqlVmRegistry(StoreDatabase database) : IVmRegistry
{
    private const string Columns = "vm_id, ak_ca_pem, registered_at, policy_name";

    // A policy name is only written together with the check that the policy exists, in one statement, so a concurrent
    // removal of that policy (SqlPolicyStore.RemoveAsync) either happens before and fails this, or sees the VM.
    // CAST: PostgreSQL cannot type a NULL parameter from "IS NULL" alone.
    private const string PolicyExists = "(CAST(@policy AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM policies WHERE name = @policy))";

    public async Task<bool> RegisterAsync(RegisteredVm vm, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vm);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = $"""
            INSERT INTO vms ({Columns}) SELECT @vm, CAST(@ca AS TEXT), @at, CAST(@policy AS TEXT) WHERE {PolicyExists}
            ON CONFLICT (vm_id) DO UPDATE SET ak_ca_pem = excluded.ak_ca_pem, registered_at = excluded.registered_at,
                policy_name = excluded.policy_name
            """;
        command.With("@vm", SqlNonceStore.VmKey(vm.VmId));
        command.With("@ca", (object?)vm.AkCaCertificatesPem ?? DBNull.Value);
        command.With("@at", StoreDatabase.ToUnixMilliseconds(vm.RegisteredAt));
        command.With("@policy", (object?)vm.PolicyName ?? DBNull.Value);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<RegisteredVm?> GetAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM vms WHERE vm_id = @vm";
        command.With("@vm", SqlNonceStore.VmKey(vmId));
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<RegisteredVm>> ListAsync(CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM vms ORDER BY registered_at, vm_id";
        var vms = new List<RegisteredVm>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            vms.Add(Read(reader));
        return vms;
    }

    public async Task<bool> RemoveAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = "DELETE FROM vms WHERE vm_id = @vm";
        command.With("@vm", SqlNonceStore.VmKey(vmId));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<PolicyAssignment> SetPolicyAsync(Guid vmId, string? policyName, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using (DbCommand assign = connection.CreateCommand())
        {
            assign.CommandText = $"UPDATE vms SET policy_name = @policy WHERE vm_id = @vm AND {PolicyExists}";
            assign.With("@vm", SqlNonceStore.VmKey(vmId));
            assign.With("@policy", (object?)policyName ?? DBNull.Value);
            try
            {
                if (await assign.ExecuteNonQueryAsync(cancellationToken) == 1)
                    return PolicyAssignment.Assigned;
            }
            catch (DbException e) when (database.Dialect.IsForeignKeyViolation(e))
            {
                // The policy was removed between this statement's check and its key check (PostgreSQL, read committed).
                return PolicyAssignment.UnknownPolicy;
            }
        }

        // Not assigned: say why (the decision above is already made).
        await using DbCommand why = connection.CreateCommand();
        why.CommandText = "SELECT COUNT(*) FROM vms WHERE vm_id = @vm";
        why.With("@vm", SqlNonceStore.VmKey(vmId));
        return (long)(await why.ExecuteScalarAsync(cancellationToken))! > 0 ? PolicyAssignment.UnknownPolicy : PolicyAssignment.UnknownVm;
    }

    private static RegisteredVm Read(DbDataReader reader) => new(
        Guid.Parse(reader.GetString(0)),
        reader.IsDBNull(1) ? null : reader.GetString(1),
        StoreDatabase.FromUnixMilliseconds(reader.GetInt64(2)),
        reader.IsDBNull(3) ? null : reader.GetString(3));
}
