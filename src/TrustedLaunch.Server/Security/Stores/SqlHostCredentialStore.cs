using System.Data.Common;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Security.Stores;

/// <summary><see cref="IHostCredentialStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL) (tables <c>host_join_tokens</c>, <c>host_certificates</c>).</summary>
public sealed class SqlHostCredentialStore(StoreDatabase database) : IHostCredentialStore
{
    public async Task AddJoinTokenAsync(byte[] tokenHash, string hostName, DateTimeOffset createdAt, DateTimeOffset expiresAt,
        CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = writer.Connection.CreateCommand();
        command.CommandText = "INSERT INTO host_join_tokens (token_sha256, host_name, created_at, expires_at) VALUES (@hash, @host, @at, @expires)";
        command.With("@hash", tokenHash);
        command.With("@host", hostName);
        command.With("@at", StoreDatabase.ToUnixMilliseconds(createdAt));
        command.With("@expires", StoreDatabase.ToUnixMilliseconds(expiresAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> SpendJoinTokenAsync(byte[] tokenHash, string hostName, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = writer.Connection.CreateCommand();
        // The lookup is by the token's SHA-256 (an index probe on a hash reveals nothing about the secret).
        command.CommandText = """
            UPDATE host_join_tokens SET used_at = @now
            WHERE token_sha256 = @hash AND lower(host_name) = lower(@host) AND used_at IS NULL AND expires_at > @now
            """;
        command.With("@hash", tokenHash);
        command.With("@host", hostName);
        command.With("@now", StoreDatabase.ToUnixMilliseconds(now));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task AddCertificateAsync(string serial, string hostName, DateTimeOffset issuedAt, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = writer.Connection.CreateCommand();
        command.CommandText = "INSERT INTO host_certificates (serial, host_name, issued_at, expires_at) VALUES (@serial, @host, @at, @expires)";
        command.With("@serial", serial);
        command.With("@host", hostName);
        command.With("@at", StoreDatabase.ToUnixMilliseconds(issuedAt));
        command.With("@expires", StoreDatabase.ToUnixMilliseconds(expiresAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<string?> FindCertificateHostAsync(string serial, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = "SELECT host_name FROM host_certificates WHERE serial = @serial AND revoked_at IS NULL";
        command.With("@serial", serial);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<int> RevokeHostAsync(string hostName, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = writer.Connection.CreateCommand();
        command.CommandText = "UPDATE host_certificates SET revoked_at = @now WHERE lower(host_name) = lower(@host) AND revoked_at IS NULL";
        command.With("@host", hostName);
        command.With("@now", StoreDatabase.ToUnixMilliseconds(now));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
