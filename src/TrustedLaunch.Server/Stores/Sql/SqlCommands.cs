using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace TrustedLaunch.Server.Stores.Sql;

/// <summary>Building commands (<c>@name</c> parameters) and reading JSON and nullable columns, for every store on either engine.</summary>
internal static class SqlCommands
{
    public static DbCommand Create(DbConnection connection, DbTransaction? transaction, string sql)
    {
        DbCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    /// <summary>
    /// A command for one of the fixed statements an attestation runs every time (never for SQL built per call): on SQLite
    /// kept compiled on its connection (<see cref="KeptSqliteConnection"/>); on PostgreSQL every command is, by Npgsql's
    /// automatic preparation (<c>Max Auto Prepare</c>, set by <see cref="PostgresDatabase"/>).
    /// </summary>
    public static DbCommand Prepared(DbConnection connection, DbTransaction? transaction, string sql) =>
        connection is KeptSqliteConnection kept ? kept.Statement(sql, transaction) : Create(connection, transaction, sql);

    public static DbCommand With(this DbCommand command, string name, object? value)
    {
        DbParameter parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return command;
    }

    public static string? ToJson<T>(T? value, JsonTypeInfo<T> type) where T : class =>
        value is null ? null : JsonSerializer.Serialize(value, type);

    public static T? FromJson<T>(DbDataReader reader, int ordinal, JsonTypeInfo<T> type) where T : class =>
        reader.IsDBNull(ordinal) ? null : JsonSerializer.Deserialize(reader.GetString(ordinal), type);

    /// <summary>The records a query finds, one JSON column each (<c>SELECT record_json …</c>), on a connection of its own.</summary>
    public static async Task<IReadOnlyList<T>> QueryJsonAsync<T>(StoreDatabase database, string sql, Func<DbCommand, DbCommand> parameters,
        JsonTypeInfo<T> type, CancellationToken cancellationToken) where T : class
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = parameters(Create(connection, null, sql));
        var found = new List<T>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            found.Add(FromJson(reader, 0, type)!);
        return found;
    }

    /// <summary>Every row <paramref name="command"/> answers, each as <paramref name="read"/> makes it.</summary>
    public static async Task<IReadOnlyList<T>> ReadAllAsync<T>(DbCommand command, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(read);
        var rows = new List<T>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            rows.Add(read(reader));
        return rows;
    }

    public static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static long? NullableInt64(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    public static TEnum ParseEnum<TEnum>(string text) where TEnum : struct, Enum =>
        Enum.TryParse(text, ignoreCase: false, out TEnum value) ? value : throw new StoreException($"Unexpected value '{text}' for {typeof(TEnum).Name} in the database.");
}
