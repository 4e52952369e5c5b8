using System.Data.Common;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>The schema on either engine: migrated once at start however many processes open it, a newer one refused.</summary>
public abstract class SchemaTests(StoreEngine engine) : StoreTests(engine)
{
    [Fact]
    public async Task Open_NewDatabase_RecordsEveryMigrationOnce()
    {
        await using DbConnection connection = await Database.OpenConnectionAsync(default);
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), MAX(version) FROM schema_version";
        await using DbDataReader reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(StoreDatabase.SchemaVersion, reader.GetInt64(0));
        Assert.Equal(StoreDatabase.SchemaVersion, reader.GetInt64(1));
    }

    [Fact]
    public async Task Open_FreshDatabaseByManyReplicasAtOnce_MigratesOnce()
    {
        // Replicas starting at the same moment on a new database: the migration lock lets one migrate, the rest find it current.
        string fresh = Engine.NewDatabase();
        try
        {
            StoreDatabase[] replicas = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => StoreDatabase.Open(fresh))));
            foreach (StoreDatabase replica in replicas)
            {
                Assert.Equal(StoreDatabase.SchemaVersion, await replica.ReadSchemaVersionAsync(default));
                await using DbConnection connection = await replica.OpenConnectionAsync(default);
                await using DbCommand count = connection.CreateCommand();
                count.CommandText = "SELECT COUNT(*) FROM schema_version";
                Assert.Equal((long)StoreDatabase.SchemaVersion, Convert.ToInt64(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
                replica.Dispose();
            }
        }
        finally
        {
            Engine.Release(fresh);
        }
    }

    [Fact]
    public async Task Open_SchemaFromNewerVersion_ThrowsStoreException()
    {
        await using (DbConnection connection = await Database.OpenConnectionAsync(default))
        await using (DbCommand command = connection.CreateCommand())
        {
            command.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES (@v, 0)";
            DbParameter version = command.CreateParameter();
            version.ParameterName = "@v";
            version.Value = (long)StoreDatabase.SchemaVersion + 1;
            command.Parameters.Add(version);
            await command.ExecuteNonQueryAsync();
        }

        var e = Assert.Throws<StoreException>(() => StoreDatabase.Open(DatabaseName).Dispose());
        Assert.Contains("schema version", e.Message, StringComparison.Ordinal);
    }
}

public sealed class SqliteSchemaTests() : SchemaTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresSchemaTests(PostgresFixture postgres) : SchemaTests(postgres.Engine)
{
    [Fact]
    public void Open_Unreachable_ThrowsStoreExceptionNamingTheDatabase()
    {
        var e = Assert.Throws<StoreException>(() => StoreDatabase.Open("Host=127.0.0.1;Port=1;Database=nowhere;Timeout=2"));
        Assert.Contains("postgresql://127.0.0.1:1/nowhere", e.Message, StringComparison.Ordinal);
    }
}
