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
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using (DbCommand spend = SpendCommand(connection, null, vmId, value, now))
        {
            if (await spend.ExecuteScalarAsync(cancellationToken) is long issuedAt)
                return new NonceSpend(NonceConsumption.Consumed, StoreDatabase.FromUnixMilliseconds(issuedAt));
        }

        return new NonceSpend(await WhyNotSpentAsync(connection, vmId, value, cancellationToken), null);
    }

    // The one statement that decides: only an unused, unexpired nonce of this VM changes, and only once. It answers the
    // nonce's issue time, or nothing when it did not spend it.
    internal static DbCommand SpendCommand(DbConnection connection, DbTransaction? transaction, Guid vmId, byte[] nonce, DateTimeOffset now) =>
        SqlCommands.Prepared(connection, transaction, """
                UPDATE nonces SET consumed_at = @now
                WHERE nonce = @nonce AND vm_id = @vm AND consumed_at IS NULL AND expires_at > @now
                RETURNING issued_at
                """)
            .With("@now", StoreDatabase.ToUnixMilliseconds(now))
            .With("@nonce", nonce)
            .With("@vm", VmKey(vmId));

    // After a spend that changed nothing: say why (for the caller's error message only; the spend already decided).
    internal static async Task<NonceConsumption> WhyNotSpentAsync(DbConnection connection, Guid vmId, byte[] nonce, CancellationToken cancellationToken)
    {
        await using DbCommand why = connection.CreateCommand();
        why.CommandText = "SELECT consumed_at, expires_at FROM nonces WHERE nonce = @nonce AND vm_id = @vm";
        why.With("@nonce", nonce);
        why.With("@vm", VmKey(vmId));
        await using DbDataReader reader = await why.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return NonceConsumption.Unknown;
        return !reader.IsDBNull(0) ? NonceConsumption.AlreadyUsed : NonceConsumption.Expired;
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
