using Microsoft.Data.Sqlite;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sqlite;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

public sealed class SqliteStoresTests : IDisposable
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
    public void Open_NewFile_CreatesSchemaInWalMode()
    {
        SqliteDatabase database = SqliteDatabase.Open(DatabasePath);

        Assert.Equal(SqliteDatabase.SchemaVersion, database.ReadSchemaVersion());
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
    public void Open_SchemaFromNewerVersion_ThrowsStoreException()
    {
        SqliteDatabase database = SqliteDatabase.Open(DatabasePath);
        using (SqliteConnection connection = database.OpenConnection())
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES ($v, 0)";
            command.Parameters.AddWithValue("$v", SqliteDatabase.SchemaVersion + 1);
            command.ExecuteNonQuery();
        }

        var e = Assert.Throws<StoreException>(() => SqliteDatabase.Open(DatabasePath));
        Assert.Contains("schema version", e.Message, StringComparison.Ordinal);
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
        var vms = new SqliteVmRegistry(migrated);

        Assert.Equal(SqliteDatabase.SchemaVersion, migrated.ReadSchemaVersion());
        Assert.Equal(new RegisteredVm(vm, "pem", T0, PolicyName: null), await vms.GetAsync(vm, default));
        Assert.Equal("QuoteInvalid", (await new SqliteAttestationResultStore(migrated).GetLatestAsync(vm, default))!.Reason);
        Assert.NotNull(await new SqliteBaselineStore(migrated).GetAsync(vm, default));
        await new SqlitePolicyStore(migrated).SaveAsync(new StoredPolicy("strict", "{}", T0), default);
        Assert.Equal(PolicyAssignment.Assigned, await vms.SetPolicyAsync(vm, "strict", default));
        await new SqliteQuoteClockStore(migrated).AdvanceAsync(vm, new TrustedLaunch.Attestation.QuoteClock(1, 1, 0, true), T0, default);
    }

    [Fact]
    public void Open_FileIsNotADatabase_ThrowsStoreException()
    {
        File.WriteAllBytes(DatabasePath, new byte[4096].Select((_, i) => (byte)(i * 7)).ToArray());

        Assert.Throws<StoreException>(() => SqliteDatabase.Open(DatabasePath));
    }

    [Fact]
    public async Task ConsumeAsync_ValidNonce_ConsumedOnceThenAlreadyUsed()
    {
        var store = new SqliteNonceStore(SqliteDatabase.Open(DatabasePath));
        var vm = Guid.NewGuid();
        byte[] nonce = [1, 2, 3, 4, 5, 6, 7, 8];
        await store.AddAsync(new IssuedNonce(vm, nonce, T0, T0.AddMinutes(5)), default);

        Assert.Equal(NonceConsumption.Consumed, (await store.ConsumeAsync(vm, nonce, T0.AddMinutes(1), default)).Result);
        Assert.Equal(NonceConsumption.AlreadyUsed, (await store.ConsumeAsync(vm, nonce, T0.AddMinutes(2), default)).Result);
    }

    [Fact]
    public async Task ConsumeAsync_AfterExpiry_Expired()
    {
        var store = new SqliteNonceStore(SqliteDatabase.Open(DatabasePath));
        var vm = Guid.NewGuid();
        byte[] nonce = [9, 9, 9, 9];
        await store.AddAsync(new IssuedNonce(vm, nonce, T0, T0.AddMinutes(5)), default);

        Assert.Equal(NonceConsumption.Expired, (await store.ConsumeAsync(vm, nonce, T0.AddMinutes(5), default)).Result);
        Assert.Equal(NonceConsumption.Expired, (await store.ConsumeAsync(vm, nonce, T0.AddMinutes(6), default)).Result);
    }

    [Fact]
    public async Task ConsumeAsync_NonceOfAnotherVmOrNeverIssued_Unknown()
    {
        var store = new SqliteNonceStore(SqliteDatabase.Open(DatabasePath));
        var vm = Guid.NewGuid();
        byte[] nonce = [4, 3, 2, 1];
        await store.AddAsync(new IssuedNonce(vm, nonce, T0, T0.AddMinutes(5)), default);

        Assert.Equal(NonceConsumption.Unknown, (await store.ConsumeAsync(Guid.NewGuid(), nonce, T0, default)).Result);
        Assert.Equal(NonceConsumption.Unknown, (await store.ConsumeAsync(vm, new byte[] { 4, 3, 2, 0 }, T0, default)).Result);
        Assert.Equal(NonceConsumption.Consumed, (await store.ConsumeAsync(vm, nonce, T0, default)).Result);
    }

    [Fact]
    public async Task ConsumeAsync_ConcurrentFromTwoStoreInstances_ExactlyOneConsumes()
    {
        // Two SqliteDatabase objects over one file stand in for two replicas sharing the database.
        var vm = Guid.NewGuid();
        byte[] nonce = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var first = new SqliteNonceStore(SqliteDatabase.Open(DatabasePath));
        var second = new SqliteNonceStore(SqliteDatabase.Open(DatabasePath));
        await first.AddAsync(new IssuedNonce(vm, nonce, T0, T0.AddMinutes(5)), default);

        NonceSpend[] outcomes = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(() => (i % 2 == 0 ? first : second).ConsumeAsync(vm, nonce, T0.AddSeconds(1), default))));

        Assert.Equal(T0, Assert.Single(outcomes, o => o.Result == NonceConsumption.Consumed).IssuedAt);
        Assert.Equal(15, outcomes.Count(o => o.Result == NonceConsumption.AlreadyUsed));
    }

    [Fact]
    public async Task PurgeExpiredAsync_RemovesOnlyExpired()
    {
        var store = new SqliteNonceStore(SqliteDatabase.Open(DatabasePath));
        var vm = Guid.NewGuid();
        await store.AddAsync(new IssuedNonce(vm, [1], T0, T0.AddMinutes(1)), default);
        await store.AddAsync(new IssuedNonce(vm, [2], T0, T0.AddMinutes(10)), default);

        Assert.Equal(1, await store.PurgeExpiredAsync(T0.AddMinutes(5), default));
        Assert.Equal(NonceConsumption.Unknown, (await store.ConsumeAsync(vm, new byte[] { 1 }, T0, default)).Result);
        Assert.Equal(NonceConsumption.Consumed, (await store.ConsumeAsync(vm, new byte[] { 2 }, T0.AddMinutes(6), default)).Result);
    }

    [Fact]
    public async Task ResultStore_ListAndLatest_NewestFirstWithReasons()
    {
        var store = new SqliteAttestationResultStore(SqliteDatabase.Open(DatabasePath));
        var vm = Guid.NewGuid();
        AttestationRecord pass = await store.AddAsync(new AttestationRecord
        {
            VmId = vm, At = T0, Verdict = AttestationVerdict.Pass, ClaimsJson = "{\"secureboot\":true}", TokenId = "jti-1",
        }, default);
        AttestationRecord fail = await store.AddAsync(new AttestationRecord
        {
            VmId = vm, At = T0.AddMinutes(1), Verdict = AttestationVerdict.Fail, Reason = "BaselineDeviation", Component = "PCR 9",
            Message = "kernel command line changed",
        }, default);
        await store.AddAsync(new AttestationRecord { VmId = Guid.NewGuid(), At = T0, Verdict = AttestationVerdict.Pass }, default);

        IReadOnlyList<AttestationRecord> list = await store.ListAsync(vm, 10, default);

        Assert.True(fail.Id > pass.Id);
        Assert.Equal([fail, pass], list);
        Assert.Equal(fail, await store.GetLatestAsync(vm, default));
        Assert.Equal([fail], await store.ListAsync(vm, 1, default));
        Assert.Null(await store.GetLatestAsync(Guid.NewGuid(), default));
    }

    [Fact]
    public async Task BaselineStore_SaveRelearnSave_FlagSetThenCleared()
    {
        var store = new SqliteBaselineStore(SqliteDatabase.Open(DatabasePath));
        var vm = Guid.NewGuid();
        Assert.Null(await store.GetAsync(vm, default));

        await store.SaveAsync(vm, "{\"v\":1}", T0, default);
        await store.RequestRelearnAsync(vm, T0.AddHours(1), default);
        StoredBaseline? flagged = await store.GetAsync(vm, default);
        await store.SaveAsync(vm, "{\"v\":2}", T0.AddHours(2), default);
        StoredBaseline? relearned = await store.GetAsync(vm, default);

        Assert.Equal(new StoredBaseline(vm, "{\"v\":1}", T0, true, T0.AddHours(1)), flagged);
        Assert.Equal(new StoredBaseline(vm, "{\"v\":2}", T0.AddHours(2), false, null), relearned);
    }

    [Fact]
    public async Task VmRegistry_RegisterReplaceListRemove()
    {
        var registry = new SqliteVmRegistry(SqliteDatabase.Open(DatabasePath));
        var a = new RegisteredVm(Guid.NewGuid(), null, T0);
        var b = new RegisteredVm(Guid.NewGuid(), "-----BEGIN CERTIFICATE-----", T0.AddSeconds(1));
        await registry.RegisterAsync(a, default);
        await registry.RegisterAsync(b, default);
        var aWithCa = a with { AkCaCertificatesPem = "pem", RegisteredAt = T0.AddSeconds(2) };
        await registry.RegisterAsync(aWithCa, default);

        Assert.Equal(aWithCa, await registry.GetAsync(a.VmId, default));
        Assert.Equal([b, aWithCa], await registry.ListAsync(default));
        Assert.True(await registry.RemoveAsync(b.VmId, default));
        Assert.False(await registry.RemoveAsync(b.VmId, default));
        Assert.Null(await registry.GetAsync(b.VmId, default));
    }

    [Fact]
    public async Task Stores_ReopenedDatabase_KeepNoncesResultsBaselinesAndVms()
    {
        var vm = Guid.NewGuid();
        byte[] spent = [1, 1, 1];
        byte[] fresh = [2, 2, 2];
        {
            SqliteDatabase database = SqliteDatabase.Open(DatabasePath);
            var nonces = new SqliteNonceStore(database);
            await nonces.AddAsync(new IssuedNonce(vm, spent, T0, T0.AddMinutes(5)), default);
            await nonces.AddAsync(new IssuedNonce(vm, fresh, T0, T0.AddMinutes(5)), default);
            await nonces.ConsumeAsync(vm, spent, T0, default);
            await new SqliteAttestationResultStore(database).AddAsync(
                new AttestationRecord { VmId = vm, At = T0, Verdict = AttestationVerdict.Fail, Reason = "QuoteInvalid" }, default);
            await new SqliteBaselineStore(database).SaveAsync(vm, "{}", T0, default);
            await new SqliteVmRegistry(database).RegisterAsync(new RegisteredVm(vm, null, T0), default);
        }

        SqliteConnection.ClearAllPools();
        SqliteDatabase reopened = SqliteDatabase.Open(DatabasePath);
        var reopenedNonces = new SqliteNonceStore(reopened);

        Assert.Equal(NonceConsumption.AlreadyUsed, (await reopenedNonces.ConsumeAsync(vm, spent, T0, default)).Result);
        Assert.Equal(NonceConsumption.Consumed, (await reopenedNonces.ConsumeAsync(vm, fresh, T0, default)).Result);
        Assert.Equal("QuoteInvalid", (await new SqliteAttestationResultStore(reopened).GetLatestAsync(vm, default))!.Reason);
        Assert.NotNull(await new SqliteBaselineStore(reopened).GetAsync(vm, default));
        Assert.NotNull(await new SqliteVmRegistry(reopened).GetAsync(vm, default));
    }
}
