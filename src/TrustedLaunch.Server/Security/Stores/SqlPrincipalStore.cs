using System.Data.Common;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Security.Stores;

/// <summary><see cref="IPrincipalStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL) (table <c>principals</c>).</summary>
public sealed class SqlPrincipalStore(StoreDatabase database) : IPrincipalStore
{
    private const string Columns = "object_id, app_id, display_name, role, scope, secret_sha256, created_at";

    public async Task AddAsync(PrincipalRecord principal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = writer.Connection.CreateCommand();
        command.CommandText = $"INSERT INTO principals ({Columns}) VALUES (@oid, @app, @name, @role, @scope, @hash, @at)";
        command.With("@oid", principal.ObjectId.ToString("D"));
        command.With("@app", principal.AppId.ToString("D"));
        command.With("@name", principal.DisplayName);
        command.With("@role", principal.Role.ToString());
        command.With("@scope", principal.Scope);
        command.With("@hash", principal.SecretHash);
        command.With("@at", StoreDatabase.ToUnixMilliseconds(principal.CreatedAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<PrincipalRecord?> FindByAppIdAsync(Guid appId, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM principals WHERE app_id = @app";
        command.With("@app", appId.ToString("D"));
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<PrincipalRecord>> ListAsync(CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM principals ORDER BY created_at, object_id";
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        var principals = new List<PrincipalRecord>();
        while (await reader.ReadAsync(cancellationToken))
            principals.Add(Read(reader));
        return principals;
    }

    public async Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = writer.Connection.CreateCommand();
        command.CommandText = "DELETE FROM principals WHERE object_id = @id OR app_id = @id";
        command.With("@id", id.ToString("D"));
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private static PrincipalRecord Read(DbDataReader reader) => new(
        Guid.Parse(reader.GetString(0)), Guid.Parse(reader.GetString(1)), reader.GetString(2),
        Enum.Parse<ServiceRole>(reader.GetString(3)), reader.GetString(4), (byte[])reader.GetValue(5),
        StoreDatabase.FromUnixMilliseconds(reader.GetInt64(6)));
}
