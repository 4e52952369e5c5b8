using Microsoft.Data.Sqlite;

namespace TrustedLaunch.Server.Stores.Sqlite;

/// <summary><see cref="IVmRegistry"/> on SQLite.</summary>
public sealed class SqliteVmRegistry(SqliteDatabase database) : IVmRegistry
{
    private const string Columns = "vm_id, ak_ca_pem, registered_at, policy_name";

    // A policy name is only written together with the check that the policy exists, in one statement, so a concurrent
    // removal of that policy (SqlitePolicyStore.RemoveAsync) either happens before and fails this, or sees the VM.
    private const string PolicyExists = "($policy IS NULL OR EXISTS (SELECT 1 FROM policies WHERE name = $policy))";

    public async Task<bool> RegisterAsync(RegisteredVm vm, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vm);
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        SqliteConnection connection = writer.Connection;
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = $"""
            INSERT INTO vms ({Columns}) SELECT $vm, $ca, $at, $policy WHERE {PolicyExists}
            ON CONFLICT (vm_id) DO UPDATE SET ak_ca_pem = excluded.ak_ca_pem, registered_at = excluded.registered_at,
                policy_name = excluded.policy_name
            """;
        command.Parameters.AddWithValue("$vm", SqliteNonceStore.VmKey(vm.VmId));
        command.Parameters.AddWithValue("$ca", (object?)vm.AkCaCertificatesPem ?? DBNull.Value);
        command.Parameters.AddWithValue("$at", SqliteDatabase.ToUnixMilliseconds(vm.RegisteredAt));
        command.Parameters.AddWithValue("$policy", (object?)vm.PolicyName ?? DBNull.Value);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<RegisteredVm?> GetAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM vms WHERE vm_id = $vm";
        command.Parameters.AddWithValue("$vm", SqliteNonceStore.VmKey(vmId));
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<RegisteredVm>> ListAsync(CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM vms ORDER BY registered_at, vm_id";
        var vms = new List<RegisteredVm>();
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            vms.Add(Read(reader));
        return vms;
    }

    public async Task<bool> RemoveAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        SqliteConnection connection = writer.Connection;
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "DELETE FROM vms WHERE vm_id = $vm";
        command.Parameters.AddWithValue("$vm", SqliteNonceStore.VmKey(vmId));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<PolicyAssignment> SetPolicyAsync(Guid vmId, string? policyName, CancellationToken cancellationToken)
    {
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        SqliteConnection connection = writer.Connection;
        await using (SqliteCommand assign = connection.CreateCommand())
        {
            assign.CommandText = $"UPDATE vms SET policy_name = $policy WHERE vm_id = $vm AND {PolicyExists}";
            assign.Parameters.AddWithValue("$vm", SqliteNonceStore.VmKey(vmId));
            assign.Parameters.AddWithValue("$policy", (object?)policyName ?? DBNull.Value);
            if (await assign.ExecuteNonQueryAsync(cancellationToken) == 1)
                return PolicyAssignment.Assigned;
        }

        // Not assigned: say why (the decision above is already made).
        await using SqliteCommand why = connection.CreateCommand();
        why.CommandText = "SELECT EXISTS (SELECT 1 FROM vms WHERE vm_id = $vm)";
        why.Parameters.AddWithValue("$vm", SqliteNonceStore.VmKey(vmId));
        return (long)(await why.ExecuteScalarAsync(cancellationToken))! == 1 ? PolicyAssignment.UnknownPolicy : PolicyAssignment.UnknownVm;
    }

    private static RegisteredVm Read(SqliteDataReader reader) => new(
        Guid.Parse(reader.GetString(0)),
        reader.IsDBNull(1) ? null : reader.GetString(1),
        SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(2)),
        reader.IsDBNull(3) ? null : reader.GetString(3));
}
