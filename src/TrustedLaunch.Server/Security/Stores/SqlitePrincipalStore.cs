using Microsoft.Data.Sqlite;
using TrustedLaunch.Server.Stores.Sqlite;

namespace TrustedLaunch.Server.Security.Stores;

/// <summary><see cref="IPrincipalStore"/> on SQLite (table <c>principals</c>).</summary>
public sealed class SqlitePrincipalStore(SqliteDatabase database) : IPrincipalStore
{
    private const string Columns = "object_id, app_id, display_name, role, scope, secret_sha256, created_at";

    public async Task AddAsync(PrincipalRecord principal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using SqliteCommand command = writer.Connection.CreateCommand();
        command.CommandText = $"INSERT INTO principals ({Columns}) VALUES ($oid, $app, $name, $role, $scope, $hash, $at)";
        command.Parameters.AddWithValue("$oid", principal.ObjectId.ToString("D"));
        command.Parameters.AddWithValue("$app", principal.AppId.ToString("D"));
        command.Parameters.AddWithValue("$name", principal.DisplayName);
        command.Parameters.AddWithValue("$role", principal.Role.ToString());
        command.Parameters.AddWithValue("$scope", principal.Scope);
        command.Parameters.AddWithValue("$hash", principal.SecretHash);
        command.Parameters.AddWithValue("$at", SqliteDatabase.ToUnixMilliseconds(principal.CreatedAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<PrincipalRecord?> FindByAppIdAsync(Guid appId, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM principals WHERE app_id = $app";
        command.Parameters.AddWithValue("$app", appId.ToString("D"));
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<PrincipalRecord>> ListAsync(CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM principals ORDER BY created_at, object_id";
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        var principals = new List<PrincipalRecord>();
        while (await reader.ReadAsync(cancellationToken))
            principals.Add(Read(reader));
        return principals;
    }

    public async Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken)
    {
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using SqliteCommand command = writer.Connection.CreateCommand();
        command.CommandText = "DELETE FROM principals WHERE object_id = $id OR app_id = $id";
        command.Parameters.AddWithValue("$id", id.ToString("D"));
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private static PrincipalRecord Read(SqliteDataReader reader) => new(
        Guid.Parse(reader.GetString(0)), Guid.Parse(reader.GetString(1)), reader.GetString(2),
        Enum.Parse<ServiceRole>(reader.GetString(3)), reader.GetString(4), (byte[])reader.GetValue(5),
        SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(6)));
}
