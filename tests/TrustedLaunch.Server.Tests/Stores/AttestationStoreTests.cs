using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>The attestation stores (nonces, results, baselines, VM registry) on either engine.</summary>
public abstract class AttestationStoreTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task ConsumeAsync_ValidNonce_ConsumedOnceThenAlreadyUsed()
    {
        var store = new SqlNonceStore(Database);
        var vm = Guid.NewGuid();
        byte[] nonce = [1, 2, 3, 4, 5, 6, 7, 8];
        await store.AddAsync(new IssuedNonce(vm, nonce, T0, T0.AddMinutes(5)), default);

        Assert.Equal(NonceConsumption.Consumed, (await store.ConsumeAsync(vm, nonce, T0.AddMinutes(1), default)).Result);
        Assert.Equal(NonceConsumption.AlreadyUsed, (await store.ConsumeAsync(vm, nonce, T0.AddMinutes(2), default)).Result);
    }

    [Fact]
    public async Task ConsumeAsync_AfterExpiry_Expired()
    {
        var store = new SqlNonceStore(Database);
        var vm = Guid.NewGuid();
        byte[] nonce = [9, 9, 9, 9];
        await store.AddAsync(new IssuedNonce(vm, nonce, T0, T0.AddMinutes(5)), default);

        Assert.Equal(NonceConsumption.Expired, (await store.ConsumeAsync(vm, nonce, T0.AddMinutes(5), default)).Result);
        Assert.Equal(NonceConsumption.Expired, (await store.ConsumeAsync(vm, nonce, T0.AddMinutes(6), default)).Result);
    }

    [Fact]
    public async Task ConsumeAsync_NonceOfAnotherVmOrNeverIssued_Unknown()
    {
        var store = new SqlNonceStore(Database);
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
        // Two database objects over one database stand in for two replicas sharing it.
        var vm = Guid.NewGuid();
        byte[] nonce = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var first = new SqlNonceStore(Database);
        var second = new SqlNonceStore(OpenReplica());
        await first.AddAsync(new IssuedNonce(vm, nonce, T0, T0.AddMinutes(5)), default);

        NonceSpend[] outcomes = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(() => (i % 2 == 0 ? first : second).ConsumeAsync(vm, nonce, T0.AddSeconds(1), default))));

        Assert.Equal(T0, Assert.Single(outcomes, o => o.Result == NonceConsumption.Consumed).IssuedAt);
        Assert.Equal(15, outcomes.Count(o => o.Result == NonceConsumption.AlreadyUsed));
    }

    [Fact]
    public async Task PurgeExpiredAsync_RemovesOnlyExpired()
    {
        var store = new SqlNonceStore(Database);
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
        var store = new SqlAttestationResultStore(Database);
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
        var store = new SqlBaselineStore(Database);
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
        var registry = new SqlVmRegistry(Database);
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
            StoreDatabase database = OpenReplica();
            var nonces = new SqlNonceStore(database);
            await nonces.AddAsync(new IssuedNonce(vm, spent, T0, T0.AddMinutes(5)), default);
            await nonces.AddAsync(new IssuedNonce(vm, fresh, T0, T0.AddMinutes(5)), default);
            await nonces.ConsumeAsync(vm, spent, T0, default);
            await new SqlAttestationResultStore(database).AddAsync(
                new AttestationRecord { VmId = vm, At = T0, Verdict = AttestationVerdict.Fail, Reason = "QuoteInvalid" }, default);
            await new SqlBaselineStore(database).SaveAsync(vm, "{}", T0, default);
            await new SqlVmRegistry(database).RegisterAsync(new RegisteredVm(vm, null, T0), default);
        }

        StoreDatabase reopened = OpenReplica();
        var reopenedNonces = new SqlNonceStore(reopened);

        Assert.Equal(NonceConsumption.AlreadyUsed, (await reopenedNonces.ConsumeAsync(vm, spent, T0, default)).Result);
        Assert.Equal(NonceConsumption.Consumed, (await reopenedNonces.ConsumeAsync(vm, fresh, T0, default)).Result);
        Assert.Equal("QuoteInvalid", (await new SqlAttestationResultStore(reopened).GetLatestAsync(vm, default))!.Reason);
        Assert.NotNull(await new SqlBaselineStore(reopened).GetAsync(vm, default));
        Assert.NotNull(await new SqlVmRegistry(reopened).GetAsync(vm, default));
    }
}

public sealed class SqliteAttestationStoreTests() : AttestationStoreTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresAttestationStoreTests(PostgresFixture postgres) : AttestationStoreTests(postgres.Engine);
