using System.Data.Common;

namespace TrustedLaunch.Server.Stores.Sql;

/// <summary><see cref="INonceStore"/> on <see cref="StoreDatabase"/>; consumption is one conditional UPDATE, so it is atomic.</summary>
public sealed class SqlNonceStore(StoreDatabase database) : INonceStore
{
    public async Task AddAsync(IssuedNonce nonce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nonce);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = "INSERT INTO nonces (nonce, vm_id, issued_at, expires_at) VALUES (@nonce, @vm, @issued, @expires)";
        command.With("@nonce", nonce.Value);
        command.With("@vm", VmKey(nonce.VmId));
        command.With("@issued", StoreDatabase.ToUnixMilliseconds(nonce.IssuedAt));
        command.With("@expires", StoreDatabase.ToUnixMilliseconds(nonce.ExpiresAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> AddForRegisteredVmAsync(IssuedNonce nonce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nonce);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Prepared(writer.Connection, null, """
                INSERT INTO nonces (nonce, vm_id, issued_at, expires_at)
                SELECT @nonce, @vm, @issued, @expires WHERE EXISTS (SELECT 1 FROM vms WHERE vm_id = @vm)
                """)
            .With("@nonce", nonce.Value)
            .With("@vm", VmKey(nonce.VmId))
            .With("@issued", StoreDatabase.ToUnixMilliseconds(nonce.IssuedAt))
            .With("@expires", StoreDatabase.ToUnixMilliseconds(nonce.ExpiresAt));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<NonceSpend> ConsumeAsync(Guid vmId, ReadOnlyMemory<byte> nonce, DateTimeOffset now, CancellationToken cancellationToken)
    {
        byte[] value = nonce.ToArray();
        long nowMs = StoreDatabase.ToUnixMilliseconds(now);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        // The one statement that decides: only an unused, unexpired nonce of this VM changes, and only once.
        await using (DbCommand spend = SqlCommands.Prepared(connection, null, """
                UPDATE nonces SET consumed_at = @now
                WHERE nonce = @nonce AND vm_id = @vm AND consumed_at IS NULL AND expires_at > @now
                RETURNING issued_at
                """))
        {
            spend.With("@now", nowMs);
            spend.With("@nonce", value);
            spend.With("@vm", VmKey(vmId));
            if (await spend.ExecuteScalarAsync(cancellationToken) is long issuedAt)
                return new NonceSpend(NonceConsumption.Consumed, StoreDatabase.FromUnixMilliseconds(issuedAt));
        }

        // Not spent: say why (for the caller's error message only; the decision above is already made).
        await using DbCommand why = connection.CreateCommand();
        why.CommandText = "SELECT consumed_at, expires_at FROM nonces WHERE nonce = @nonce AND vm_id = @vm";
        why.With("@nonce", value);
        why.With("@vm", VmKey(vmId));
        await using DbDataReader reader = await why.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return new NonceSpend(NonceConsumption.Unknown, null);
        return new NonceSpend(!reader.IsDBNull(0) ? NonceConsumption.AlreadyUsed : NonceConsumption.Expired, null);
    }

    public async Task<int> PurgeExpiredAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = "DELETE FROM nonces WHERE expires_at <= @before";
        command.With("@before", StoreDatabase.ToUnixMilliseconds(before));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static string VmKey(Guid vmId) => vmId.ToString("D");
}
