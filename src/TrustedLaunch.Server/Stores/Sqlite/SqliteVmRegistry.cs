using Microsoft.Data.Sqlite;

namespace TrustedLaunch.Server.Stores.Sqlite;

/// <summary><see cref="IVmRegistry"/> on SQLite.</summary>
public sealed class SqliteVmRegistry(SqliteDatabase database) : IVmRegistry
{
    public async Task RegisterAsync(RegisteredVm vm, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vm);
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        SqliteConnection connection = writer.Connection;
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO vms (vm_id, ak_ca_pem, registered_at) VALUES ($vm, $ca, $at)
            ON CONFLICT (vm_id) DO UPDATE SET ak_ca_pem = excluded.ak_ca_pem, registered_at = excluded.registered_at
            """;
        command.Parameters.AddWithValue("$vm", SqliteNonceStore.VmKey(vm.VmId));
        command.Parameters.AddWithValue("$ca", (object?)vm.AkCaCertificatesPem ?? DBNull.Value);
        command.Parameters.AddWithValue("$at", SqliteDatabase.ToUnixMilliseconds(vm.RegisteredAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<RegisteredVm?> GetAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT vm_id, ak_ca_pem, registered_at FROM vms WHERE vm_id = $vm";
        command.Parameters.AddWithValue("$vm", SqliteNonceStore.VmKey(vmId));
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<RegisteredVm>> ListAsync(CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT vm_id, ak_ca_pem, registered_at FROM vms ORDER BY registered_at, vm_id";
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

    private static RegisteredVm Read(SqliteDataReader reader) => new(
        Guid.Parse(reader.GetString(0)),
        reader.IsDBNull(1) ? null : reader.GetString(1),
        SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(2)));
}
