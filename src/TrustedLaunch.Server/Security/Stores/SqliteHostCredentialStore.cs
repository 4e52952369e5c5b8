using Microsoft.Data.Sqlite;
using TrustedLaunch.Server.Stores.Sqlite;

namespace TrustedLaunch.Server.Security.Stores;

/// <summary><see cref="IHostCredentialStore"/> on SQLite (tables <c>host_join_tokens</c>, <c>host_certificates</c>).</summary>
public sealed class SqliteHostCredentialStore(SqliteDatabase database) : IHostCredentialStore
{
    public async Task AddJoinTokenAsync(byte[] tokenHash, string hostName, DateTimeOffset createdAt, DateTimeOffset expiresAt,
        CancellationToken cancellationToken)
    {
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using SqliteCommand command = writer.Connection.CreateCommand();
        command.CommandText = "INSERT INTO host_join_tokens (token_sha256, host_name, created_at, expires_at) VALUES ($hash, $host, $at, $expires)";
        command.Parameters.AddWithValue("$hash", tokenHash);
        command.Parameters.AddWithValue("$host", hostName);
        command.Parameters.AddWithValue("$at", SqliteDatabase.ToUnixMilliseconds(createdAt));
        command.Parameters.AddWithValue("$expires", SqliteDatabase.ToUnixMilliseconds(expiresAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> SpendJoinTokenAsync(byte[] tokenHash, string hostName, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using SqliteCommand command = writer.Connection.CreateCommand();
        // The lookup is by the token's SHA-256 (an index probe on a hash reveals nothing about the secret).
        command.CommandText = """
            UPDATE host_join_tokens SET used_at = $now
            WHERE token_sha256 = $hash AND host_name = $host COLLATE NOCASE AND used_at IS NULL AND expires_at > $now
            """;
        command.Parameters.AddWithValue("$hash", tokenHash);
        command.Parameters.AddWithValue("$host", hostName);
        command.Parameters.AddWithValue("$now", SqliteDatabase.ToUnixMilliseconds(now));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task AddCertificateAsync(string serial, string hostName, DateTimeOffset issuedAt, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using SqliteCommand command = writer.Connection.CreateCommand();
        command.CommandText = "INSERT INTO host_certificates (serial, host_name, issued_at, expires_at) VALUES ($serial, $host, $at, $expires)";
        command.Parameters.AddWithValue("$serial", serial);
        command.Parameters.AddWithValue("$host", hostName);
        command.Parameters.AddWithValue("$at", SqliteDatabase.ToUnixMilliseconds(issuedAt));
        command.Parameters.AddWithValue("$expires", SqliteDatabase.ToUnixMilliseconds(expiresAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<string?> FindCertificateHostAsync(string serial, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT host_name FROM host_certificates WHERE serial = $serial AND revoked_at IS NULL";
        command.Parameters.AddWithValue("$serial", serial);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<int> RevokeHostAsync(string hostName, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using SqliteCommand command = writer.Connection.CreateCommand();
        command.CommandText = "UPDATE host_certificates SET revoked_at = $now WHERE host_name = $host COLLATE NOCASE AND revoked_at IS NULL";
        command.Parameters.AddWithValue("$host", hostName);
        command.Parameters.AddWithValue("$now", SqliteDatabase.ToUnixMilliseconds(now));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
