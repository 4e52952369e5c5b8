using Microsoft.Data.Sqlite;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>What only the SQLite engine has: WAL, the file, and migrations from the versions SQLite shipped alone.</summary>
public sealed class SqliteDatabaseTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);
    private readonly string _directory = RepositoryPaths.NewTempDirectory("tl-server-store");

    private string DatabasePath => Path.Combine(_directory, "tl.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Open_NewFile_CreatesSchemaInWalMode()
    {
        SqliteDatabase database = SqliteDatabase.Open(DatabasePath);

        Assert.Equal(SqliteDatabase.SchemaVersion, await database.ReadSchemaVersionAsync(default));
        using SqliteConnection connection = database.OpenConnection();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string)command.ExecuteScalar()!);
    }

    [Fact]
    public void Open_Twice_MigrationIsIdempotent()
    {
        SqliteDatabase.Open(DatabasePath);
        SqliteDatabase again = SqliteDatabase.Open(DatabasePath);

        using SqliteConnection connection = again.OpenConnection();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM schema_version";
        Assert.Equal((long)SqliteDatabase.SchemaVersion, (long)command.ExecuteScalar()!);
    }

    [Fact]
    public async Task Open_Version1Database_MigratesKeepingVmsResultsAndBaselines()
    {
        // The schema as version 1 shipped it (spelt out here, not taken from SqliteDatabase, so that an edit to a shipped
        // migration breaks this test), with a VM, a result and a baseline in it.
        var vm = Guid.NewGuid();
        using (var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            connection.Open();
            using SqliteCommand v1 = connection.CreateCommand();
            v1.CommandText = $"""
                CREATE TABLE schema_version (version INTEGER PRIMARY KEY NOT NULL, applied_at INTEGER NOT NULL);
                CREATE TABLE vms (vm_id TEXT PRIMARY KEY NOT NULL, ak_ca_pem TEXT NULL, registered_at INTEGER NOT NULL);
                CREATE TABLE nonces (nonce BLOB PRIMARY KEY NOT NULL, vm_id TEXT NOT NULL, issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, consumed_at INTEGER NULL);
                CREATE INDEX nonces_expires_at ON nonces (expires_at);
                CREATE TABLE attestation_results (id INTEGER PRIMARY KEY AUTOINCREMENT, vm_id TEXT NOT NULL, at INTEGER NOT NULL, verdict TEXT NOT NULL, reason TEXT NULL, component TEXT NULL, message TEXT NULL, claims_json TEXT NULL, token_id TEXT NULL);
                CREATE INDEX attestation_results_vm ON attestation_results (vm_id, id);
                CREATE TABLE baselines (vm_id TEXT PRIMARY KEY NOT NULL, baseline_json TEXT NOT NULL, learned_at INTEGER NOT NULL, relearn_requested_at INTEGER NULL);
                INSERT INTO schema_version VALUES (1, 0);
                INSERT INTO vms VALUES ('{vm:D}', 'pem', {T0.ToUnixTimeMilliseconds()});
                INSERT INTO attestation_results (vm_id, at, verdict, reason) VALUES ('{vm:D}', {T0.ToUnixTimeMilliseconds()}, 'fail', 'QuoteInvalid');
                INSERT INTO baselines VALUES ('{vm:D}', '[]', {T0.ToUnixTimeMilliseconds()}, NULL);
                """;
            v1.ExecuteNonQuery();
        }

        SqliteDatabase migrated = SqliteDatabase.Open(DatabasePath);
        var vms = new SqlVmRegistry(migrated);

        Assert.Equal(SqliteDatabase.SchemaVersion, await migrated.ReadSchemaVersionAsync(default));
        Assert.Equal(new RegisteredVm(vm, "pem", T0, PolicyName: null), await vms.GetAsync(vm, default));
        Assert.Equal("QuoteInvalid", (await new SqlAttestationResultStore(migrated).GetLatestAsync(vm, default))!.Reason);
        Assert.NotNull(await new SqlBaselineStore(migrated).GetAsync(vm, default));
        await new SqlPolicyStore(migrated).SaveAsync(new StoredPolicy("strict", "{}", T0), default);
        Assert.Equal(PolicyAssignment.Assigned, await vms.SetPolicyAsync(vm, "strict", default));
        await new SqlQuoteClockStore(migrated).AdvanceAsync(vm, new TrustedLaunch.Attestation.QuoteClock(1, 1, 0, true), T0, default);
    }

    [Fact]
    public void Open_FileIsNotADatabase_ThrowsStoreException()
    {
        File.WriteAllBytes(DatabasePath, new byte[4096].Select((_, i) => (byte)(i * 7)).ToArray());

        Assert.Throws<StoreException>(() => SqliteDatabase.Open(DatabasePath));
    }

    [Fact]
    public async Task Open_Version3Database_AddsTheControlPlaneKeepingEverything()
    {
        // Bring a database back to version 3 (the schema before the control plane) with attestation data in it.
        var vm = Guid.NewGuid();
        using SqliteDatabase Database = SqliteDatabase.Open(DatabasePath);
        await new SqlVmRegistry(Database).RegisterAsync(new RegisteredVm(vm, "pem", T0), default);
        using (SqliteConnection connection = Database.OpenConnection())
        {
            // Every table a later migration made goes, whatever later migrations there are.
            var later = new List<string>();
            using (SqliteCommand list = connection.CreateCommand())
            {
                list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN " +
                    "('vms', 'nonces', 'attestation_results', 'baselines', 'policies', 'quote_clocks', 'schema_version') AND name NOT LIKE 'sqlite_%'";
                using SqliteDataReader reader = list.ExecuteReader();
                while (reader.Read())
                    later.Add(reader.GetString(0));
            }

            using SqliteCommand down = connection.CreateCommand();
            later.Reverse(); // children before the tables they reference
            down.CommandText = string.Concat(later.Select(t => $"DROP TABLE {t};")) + "DELETE FROM schema_version WHERE version >= 4;";
            down.ExecuteNonQuery();
        }

        SqliteConnection.ClearAllPools();
        using SqliteDatabase migrated = SqliteDatabase.Open(DatabasePath);

        Assert.Equal(SqliteDatabase.SchemaVersion, await migrated.ReadSchemaVersionAsync(default));
        Assert.NotNull(await new SqlVmRegistry(migrated).GetAsync(vm, default));
        SubscriptionRecord subscription = await new SqlSubscriptionStore(migrated).EnsureDefaultAsync(T0, default);
        Assert.NotNull(await new SqlSubscriptionStore(migrated).GetAsync(subscription.SubscriptionId, default));
    }
}
