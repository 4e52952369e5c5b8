using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>A database written below the service (no migrations run, no stores): how the migration tests build one at an older schema.</summary>
internal static class RawDatabase
{
    public static DbConnection Connect(string database) =>
        StoreDatabase.IsConnectionString(database) ? new NpgsqlConnection(database) : new SqliteConnection($"Data Source={database};Pooling=False");

    public static async Task ExecuteAsync(DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = sql;
        foreach ((string name, object? value) in parameters)
            command.With(name, value);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The migrations' SQL up to <paramref name="version"/> only, recorded as the service records them.</summary>
    public static async Task MigrateAsync(DbConnection connection, string database, int version)
    {
        Func<string, string> spell = StoreDatabase.IsConnectionString(database) ? StoreSchema.ForPostgres : sql => sql;
        await ExecuteAsync(connection, spell("CREATE TABLE schema_version (version INTEGER PRIMARY KEY NOT NULL, applied_at INTEGER NOT NULL)"));
        for (int applied = 0; applied < version; applied++)
        {
            if (!string.IsNullOrWhiteSpace(StoreSchema.Migrations[applied]))
                await ExecuteAsync(connection, spell(StoreSchema.Migrations[applied])); // a step-only migration's C# is not run: its rows are absent
            await ExecuteAsync(connection, "INSERT INTO schema_version (version, applied_at) VALUES (@v, 0)", ("@v", (long)applied + 1));
        }
    }
}
