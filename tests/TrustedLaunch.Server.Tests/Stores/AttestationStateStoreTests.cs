using TrustedLaunch.Attestation;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>
/// An attestation's reads in one statement (VM, policy, baseline, quote clock), its writes in its result's transaction,
/// and a challenge's "registered?" and nonce insert in one statement, on either engine.
/// </summary>
public abstract class AttestationStateStoreTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task ReadAsync_UnknownVm_Null()
    {
        await new SqlVmRegistry(Database).RegisterAsync(new RegisteredVm(Guid.NewGuid(), null, T0), default);

        Assert.Null(await new SqlAttestationStateStore(Database).ReadAsync(Guid.NewGuid(), default));
    }

    [Fact]
    public async Task ReadAsync_NewVm_OnlyTheVm()
    {
        var vm = new RegisteredVm(Guid.NewGuid(), "-----BEGIN CERTIFICATE-----", T0);
        await new SqlVmRegistry(Database).RegisterAsync(vm, default);

        Assert.Equal(new AttestationState(vm, null, null, null), await new SqlAttestationStateStore(Database).ReadAsync(vm.VmId, default));
    }

    [Fact]
    public async Task ReadAsync_EverythingStored_EqualsWhatEachStoreReads()
    {
        var policy = new StoredPolicy("strict", "{\"name\":\"strict\"}", T0);
        await new SqlPolicyStore(Database).SaveAsync(policy, default);
        var vm = new RegisteredVm(Guid.NewGuid(), null, T0, "strict");
        await new SqlVmRegistry(Database).RegisterAsync(vm, default);
        await new SqlBaselineStore(Database).SaveAsync(vm.VmId, "{\"v\":1}", T0.AddMinutes(1), default);
        await new SqlBaselineStore(Database).RequestRelearnAsync(vm.VmId, T0.AddMinutes(2), default);
        await new SqlQuoteClockStore(Database).AdvanceAsync(vm.VmId, new QuoteClock(123_456, 7, 2, Safe: true), T0.AddMinutes(3), default);
        // Another VM's rows must not join in.
        await new SqlBaselineStore(Database).SaveAsync(Guid.NewGuid(), "{\"v\":9}", T0, default);

        AttestationState? state = await new SqlAttestationStateStore(Database).ReadAsync(vm.VmId, default);

        Assert.Equal(new AttestationState(vm, await new SqlPolicyStore(Database).GetAsync("strict", default),
            await new SqlBaselineStore(Database).GetAsync(vm.VmId, default), await new SqlQuoteClockStore(Database).GetAsync(vm.VmId, default)), state);
        Assert.Equal(new StoredBaseline(vm.VmId, "{\"v\":1}", T0.AddMinutes(1), true, T0.AddMinutes(2)), state!.Baseline);
        Assert.Equal(new StoredQuoteClock(new QuoteClock(123_456, 7, 2, true), T0.AddMinutes(3)), state.QuoteClock);
    }

    [Fact]
    public async Task AddAsync_WithWrites_ResultClockAndBaselineStoredTogether()
    {
        var results = new SqlAttestationResultStore(Database);
        var vm = Guid.NewGuid();
        await new SqlBaselineStore(Database).SaveAsync(vm, "{\"v\":1}", T0, default);
        await new SqlBaselineStore(Database).RequestRelearnAsync(vm, T0.AddMinutes(1), default);

        AttestationRecord first = await results.AddAsync(new AttestationRecord { VmId = vm, At = T0.AddMinutes(2), Verdict = AttestationVerdict.Pass },
            new AttestationStateWrites(new QuoteClock(5_000, 3, 0, Safe: true), "{\"v\":2}", T0.AddMinutes(2)), default);
        // A slower request's older quote: its result is stored, the clock stays; no baseline learned: the stored one stays.
        AttestationRecord second = await results.AddAsync(new AttestationRecord { VmId = vm, At = T0.AddMinutes(3), Verdict = AttestationVerdict.Fail, Reason = "BaselineDeviation" },
            new AttestationStateWrites(new QuoteClock(4_000, 3, 0, Safe: true), null, T0.AddMinutes(3)), default);

        Assert.Equal([second, first], await results.ListAsync(vm, 10, default));
        Assert.Equal(new StoredQuoteClock(new QuoteClock(5_000, 3, 0, true), T0.AddMinutes(2)), await new SqlQuoteClockStore(Database).GetAsync(vm, default));
        Assert.Equal(new StoredBaseline(vm, "{\"v\":2}", T0.AddMinutes(2), false, null), await new SqlBaselineStore(Database).GetAsync(vm, default));
    }

    [Fact]
    public async Task AddAsync_ResultInsertFails_NeitherClockBaselineNorPostureWorkStored()
    {
        var results = new SqlAttestationResultStore(Database);
        var vm = Guid.NewGuid();
        await new SqlBaselineStore(Database).SaveAsync(vm, "{\"v\":1}", T0, default);
        // The result's INSERT, the last statement (PostgreSQL: of one batch), fails: the earlier ones must not stay.
        await ExecuteAsync("ALTER TABLE attestation_results RENAME TO attestation_results_away");

        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => results.AddAsync(
            new AttestationRecord { VmId = vm, At = T0.AddMinutes(1), Verdict = AttestationVerdict.Pass },
            new AttestationStateWrites(new QuoteClock(5_000, 3, 0, Safe: true), "{\"v\":2}", T0.AddMinutes(1)), default));

        await ExecuteAsync("ALTER TABLE attestation_results_away RENAME TO attestation_results");
        Assert.Null(await new SqlQuoteClockStore(Database).GetAsync(vm, default));
        Assert.Equal(new StoredBaseline(vm, "{\"v\":1}", T0, false, null), await new SqlBaselineStore(Database).GetAsync(vm, default));
        await using System.Data.Common.DbConnection connection = await Database.OpenConnectionAsync(default);
        await using System.Data.Common.DbCommand work = connection.CreateCommand();
        work.CommandText = "SELECT COUNT(*) FROM posture_work WHERE vm_id = @vm";
        System.Data.Common.DbParameter parameter = work.CreateParameter();
        parameter.ParameterName = "@vm";
        parameter.Value = vm.ToString("D");
        work.Parameters.Add(parameter);
        Assert.Equal(0L, Convert.ToInt64(await work.ExecuteScalarAsync(default), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(await results.ListAsync(vm, 10, default));
    }

    [Fact]
    public async Task AddForRegisteredVmAsync_UnknownVmStoresNothing_RegisteredVmsNonceSpendsOnce()
    {
        var nonces = new SqlNonceStore(Database);
        var vm = new RegisteredVm(Guid.NewGuid(), null, T0);
        await new SqlVmRegistry(Database).RegisterAsync(vm, default);
        var stranger = Guid.NewGuid();
        byte[] refused = [1, 2, 3, 4];
        byte[] issued = [5, 6, 7, 8];

        Assert.False(await nonces.AddForRegisteredVmAsync(new IssuedNonce(stranger, refused, T0, T0.AddMinutes(5)), default));
        Assert.True(await nonces.AddForRegisteredVmAsync(new IssuedNonce(vm.VmId, issued, T0, T0.AddMinutes(5)), default));

        Assert.Equal(NonceConsumption.Unknown, (await nonces.ConsumeAsync(stranger, refused, T0.AddMinutes(1), default)).Result);
        Assert.Equal(new NonceSpend(NonceConsumption.Consumed, T0), await nonces.ConsumeAsync(vm.VmId, issued, T0.AddMinutes(1), default));
        Assert.Equal(NonceConsumption.AlreadyUsed, (await nonces.ConsumeAsync(vm.VmId, issued, T0.AddMinutes(2), default)).Result);
    }

    [Fact]
    public async Task ReadAsync_WithNonce_OnlyANonceIssuedToThisVmJoins()
    {
        var nonces = new SqlNonceStore(Database);
        var states = new SqlAttestationStateStore(Database);
        var vm = new RegisteredVm(Guid.NewGuid(), null, T0);
        var other = new RegisteredVm(Guid.NewGuid(), null, T0);
        await new SqlVmRegistry(Database).RegisterAsync(vm, default);
        await new SqlVmRegistry(Database).RegisterAsync(other, default);
        byte[] mine = [1, 1, 1, 1];
        byte[] theirs = [2, 2, 2, 2];
        await nonces.AddAsync(new IssuedNonce(vm.VmId, mine, T0, T0.AddMinutes(5)), default);
        await nonces.AddAsync(new IssuedNonce(other.VmId, theirs, T0, T0.AddMinutes(5)), default);

        Assert.Equal(new StoredNonce(T0, T0.AddMinutes(5), null), (await states.ReadAsync(vm.VmId, mine, default))!.Nonce);
        Assert.Null((await states.ReadAsync(vm.VmId, theirs, default))!.Nonce);
        Assert.Null((await states.ReadAsync(vm.VmId, new byte[] { 1, 1, 1, 0 }, default))!.Nonce);
        await nonces.ConsumeAsync(vm.VmId, mine, T0.AddMinutes(1), default);
        StoredNonce spent = (await states.ReadAsync(vm.VmId, mine, default))!.Nonce!;
        Assert.Equal(T0.AddMinutes(1), spent.ConsumedAt);
        Assert.Equal(NonceConsumption.AlreadyUsed, spent.SpendableAt(T0.AddMinutes(2)));
        Assert.Equal(NonceConsumption.Expired, new StoredNonce(T0, T0.AddMinutes(5), null).SpendableAt(T0.AddMinutes(5)));
    }

    [Fact]
    public async Task AddSpendingNonceAsync_SpendsAndStoresOnce_ThenRefusesAndStoresNothing()
    {
        var results = new SqlAttestationResultStore(Database);
        var vm = Guid.NewGuid();
        byte[] nonce = [7, 7, 7, 7];
        await new SqlNonceStore(Database).AddAsync(new IssuedNonce(vm, nonce, T0, T0.AddMinutes(5)), default);
        var record = new AttestationRecord { VmId = vm, At = T0.AddMinutes(1), Verdict = AttestationVerdict.Pass };
        var writes = new AttestationStateWrites(new QuoteClock(5_000, 3, 0, Safe: true), "{\"v\":1}", T0.AddMinutes(1));

        SpentResult first = await results.AddSpendingNonceAsync(record, writes, nonce, default);
        SpentResult replay = await results.AddSpendingNonceAsync(record with { At = T0.AddMinutes(2) }, writes with { At = T0.AddMinutes(2) }, nonce, default);
        SpentResult foreign = await results.AddSpendingNonceAsync(record with { VmId = Guid.NewGuid() }, writes, nonce, default);

        Assert.Equal(NonceConsumption.Consumed, first.Nonce);
        Assert.Equal([first.Record!], await results.ListAsync(vm, 10, default));
        Assert.Equal(new SpentResult(NonceConsumption.AlreadyUsed, null), replay);
        Assert.Equal(new SpentResult(NonceConsumption.Unknown, null), foreign);
        Assert.Equal(new StoredBaseline(vm, "{\"v\":1}", T0.AddMinutes(1), false, null), await new SqlBaselineStore(Database).GetAsync(vm, default));
    }

    [Fact]
    public async Task AddSpendingNonceAsync_ExpiredNonce_NothingStored()
    {
        var results = new SqlAttestationResultStore(Database);
        var vm = Guid.NewGuid();
        byte[] nonce = [8, 8, 8, 8];
        await new SqlNonceStore(Database).AddAsync(new IssuedNonce(vm, nonce, T0, T0.AddMinutes(5)), default);

        SpentResult late = await results.AddSpendingNonceAsync(new AttestationRecord { VmId = vm, At = T0.AddMinutes(5), Verdict = AttestationVerdict.Pass },
            new AttestationStateWrites(new QuoteClock(5_000, 3, 0, Safe: true), null, T0.AddMinutes(5)), nonce, default);

        Assert.Equal(new SpentResult(NonceConsumption.Expired, null), late);
        Assert.Empty(await results.ListAsync(vm, 10, default));
        Assert.Null(await new SqlQuoteClockStore(Database).GetAsync(vm, default));
    }

    // Decided (docs/attestation-service.md, "One nonce, one result"): a result that could not be stored rolls its nonce's
    // spend back, so the VM may present the same evidence again before the nonce expires. No token was returned for it, and
    // the nonce still backs at most one stored result and one token.
    [Fact]
    public async Task AddSpendingNonceAsync_ResultInsertFails_NonceStaysUnspentAndUsableOnce()
    {
        var results = new SqlAttestationResultStore(Database);
        var vm = Guid.NewGuid();
        byte[] nonce = [9, 9, 9, 9];
        await new SqlVmRegistry(Database).RegisterAsync(new RegisteredVm(vm, null, T0), default);
        await new SqlNonceStore(Database).AddAsync(new IssuedNonce(vm, nonce, T0, T0.AddMinutes(5)), default);
        var record = new AttestationRecord { VmId = vm, At = T0.AddMinutes(1), Verdict = AttestationVerdict.Pass };
        var writes = new AttestationStateWrites(new QuoteClock(5_000, 3, 0, Safe: true), null, T0.AddMinutes(1));
        await ExecuteAsync("ALTER TABLE attestation_results RENAME TO attestation_results_away");

        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => results.AddSpendingNonceAsync(record, writes, nonce, default));

        await ExecuteAsync("ALTER TABLE attestation_results_away RENAME TO attestation_results");
        Assert.Null(await new SqlQuoteClockStore(Database).GetAsync(vm, default));
        Assert.Equal(new StoredNonce(T0, T0.AddMinutes(5), null), (await new SqlAttestationStateStore(Database).ReadAsync(vm, nonce, default))!.Nonce);
        Assert.Equal(NonceConsumption.Consumed, (await results.AddSpendingNonceAsync(record, writes, nonce, default)).Nonce);
        Assert.Equal(NonceConsumption.AlreadyUsed, (await results.AddSpendingNonceAsync(record, writes, nonce, default)).Nonce);
        Assert.Single(await results.ListAsync(vm, 10, default));
    }

    [Fact]
    public async Task AddSpendingNonceAsync_ConcurrentFromTwoReplicas_ExactlyOneStored()
    {
        var vm = Guid.NewGuid();
        byte[] nonce = Enumerable.Range(0, 32).Select(i => (byte)(i * 3)).ToArray();
        await new SqlNonceStore(Database).AddAsync(new IssuedNonce(vm, nonce, T0, T0.AddMinutes(5)), default);
        var first = new SqlAttestationResultStore(Database);
        var second = new SqlAttestationResultStore(OpenReplica());
        var record = new AttestationRecord { VmId = vm, At = T0.AddSeconds(1), Verdict = AttestationVerdict.Pass };
        var writes = new AttestationStateWrites(new QuoteClock(5_000, 3, 0, Safe: true), null, T0.AddSeconds(1));

        SpentResult[] outcomes = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(() => (i % 2 == 0 ? first : second).AddSpendingNonceAsync(record, writes, nonce, default))));

        Assert.Single(outcomes, o => o.Nonce == NonceConsumption.Consumed && o.Record is not null);
        Assert.Equal(15, outcomes.Count(o => o.Nonce == NonceConsumption.AlreadyUsed && o.Record is null));
        Assert.Single(await first.ListAsync(vm, 10, default));
    }

    private async Task ExecuteAsync(string sql)
    {
        await using StoreWriter writer = await Database.OpenWriterAsync(default);
        await using System.Data.Common.DbCommand command = writer.Connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(default);
    }
}

public sealed class SqliteAttestationStateStoreTests() : AttestationStateStoreTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresAttestationStateStoreTests(PostgresFixture postgres) : AttestationStateStoreTests(postgres.Engine);
