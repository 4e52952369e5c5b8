using Microsoft.Data.Sqlite;

namespace TrustedLaunch.Server.Stores.Sqlite;

/// <summary><see cref="INonceStore"/> on SQLite; consumption is one conditional UPDATE, so it is atomic.</summary>
public sealed class SqliteNonceStore(SqliteDatabase database) : INonceStore
{
    public async Task AddAsync(IssuedNonce nonce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nonce);
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        SqliteConnection connection = writer.Connection;
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "INSERT INTO nonces (nonce, vm_id, issued_at, expires_at) VALUES ($nonce, $vm, $issued, $expires)";
        command.Parameters.AddWithValue("$nonce", nonce.Value);
        command.Parameters.AddWithValue("$vm", VmKey(nonce.VmId));
        command.Parameters.AddWithValue("$issued", SqliteDatabase.ToUnixMilliseconds(nonce.IssuedAt));
        command.Parameters.AddWithValue("$expires", SqliteDatabase.ToUnixMilliseconds(nonce.ExpiresAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<NonceSpend> ConsumeAsync(Guid vmId, ReadOnlyMemory<byte> nonce, DateTimeOffset now, CancellationToken cancellationToken)
    {
        byte[] value = nonce.ToArray();
        long nowMs = SqliteDatabase.ToUnixMilliseconds(now);
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        SqliteConnection connection = writer.Connection;
        await using (SqliteCommand spend = connection.CreateCommand())
        {
            // The one statement that decides: only an unused, unexpired nonce of this VM changes, and only once.
            spend.CommandText = """
                UPDATE nonces SET consumed_at = $now
                WHERE nonce = $nonce AND vm_id = $vm AND consumed_at IS NULL AND expires_at > $now
                RETURNING issued_at
                """;
            spend.Parameters.AddWithValue("$now", nowMs);
            spend.Parameters.AddWithValue("$nonce", value);
            spend.Parameters.AddWithValue("$vm", VmKey(vmId));
            if (await spend.ExecuteScalarAsync(cancellationToken) is long issuedAt)
                return new NonceSpend(NonceConsumption.Consumed, SqliteDatabase.FromUnixMilliseconds(issuedAt));
        }

        // Not spent: say why (for the caller's error message only; the decision above is already made).
        await using SqliteCommand why = connection.CreateCommand();
        why.CommandText = "SELECT consumed_at, expires_at FROM nonces WHERE nonce = $nonce AND vm_id = $vm";
        why.Parameters.AddWithValue("$nonce", value);
        why.Parameters.AddWithValue("$vm", VmKey(vmId));
        await using SqliteDataReader reader = await why.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return new NonceSpend(NonceConsumption.Unknown, null);
        return new NonceSpend(!reader.IsDBNull(0) ? NonceConsumption.AlreadyUsed : NonceConsumption.Expired, null);
    }

    public async Task<int> PurgeExpiredAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        SqliteConnection connection = writer.Connection;
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "DELETE FROM nonces WHERE expires_at <= $before";
        command.Parameters.AddWithValue("$before", SqliteDatabase.ToUnixMilliseconds(before));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static string VmKey(Guid vmId) => vmId.ToString("D");
}
