using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Data.Sqlite;

namespace TrustedLaunch.Server.Stores.Sqlite.ControlPlane;

/// <summary>Building commands and reading JSON columns for the control-plane stores.</summary>
internal static class SqliteCommands
{
    public static SqliteCommand Create(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    public static SqliteCommand With(this SqliteCommand command, string name, object? value)
    {
        command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    public static string? ToJson<T>(T? value, JsonTypeInfo<T> type) where T : class =>
        value is null ? null : JsonSerializer.Serialize(value, type);

    public static T? FromJson<T>(SqliteDataReader reader, int ordinal, JsonTypeInfo<T> type) where T : class =>
        reader.IsDBNull(ordinal) ? null : JsonSerializer.Deserialize(reader.GetString(ordinal), type);

    public static string? NullableString(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static long? NullableInt64(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    public static TEnum ParseEnum<TEnum>(string text) where TEnum : struct, Enum =>
        Enum.TryParse(text, ignoreCase: false, out TEnum value) ? value : throw new StoreException($"Unexpected value '{text}' for {typeof(TEnum).Name} in the database.");
}
