using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>
/// A single-use nonce holds across replicas: the same nonce spent through two replicas (two database objects, two
/// connection pools) at the same moment is consumed exactly once, 1,000 times over.
/// </summary>
public abstract class ReplicaNonceTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Consume_SameNonceThroughTwoReplicasConcurrently_ExactlyOneSuccess_1000Times()
    {
        var first = new SqlNonceStore(Database);
        var second = new SqlNonceStore(OpenReplica());
        var vm = Guid.NewGuid();
        int consumed = 0, refused = 0;
        for (int i = 0; i < 1000; i++)
        {
            byte[] nonce = Guid.NewGuid().ToByteArray();
            await (i % 2 == 0 ? first : second).AddAsync(new IssuedNonce(vm, nonce, T0, T0.AddMinutes(5)), default);
            using var start = new Barrier(2);
            NonceSpend[] spends = await Task.WhenAll(
                Task.Run(() => { start.SignalAndWait(); return first.ConsumeAsync(vm, nonce, T0.AddSeconds(1), default); }),
                Task.Run(() => { start.SignalAndWait(); return second.ConsumeAsync(vm, nonce, T0.AddSeconds(1), default); }));
            Assert.Equal(1, spends.Count(s => s.Result == NonceConsumption.Consumed));
            Assert.Equal(1, spends.Count(s => s.Result == NonceConsumption.AlreadyUsed));
            consumed += spends.Count(s => s.Result == NonceConsumption.Consumed);
            refused += spends.Count(s => s.Result == NonceConsumption.AlreadyUsed);
        }

        Assert.Equal((1000, 1000), (consumed, refused));
    }

    [Fact]
    public async Task AddSpendingNonce_SameNonceThroughTwoReplicasConcurrently_ExactlyOneResult_200Times()
    {
        var nonces = new SqlNonceStore(Database);
        var first = new SqlAttestationResultStore(Database);
        var second = new SqlAttestationResultStore(OpenReplica());
        var vm = Guid.NewGuid();
        var record = new AttestationRecord { VmId = vm, At = T0.AddSeconds(1), Verdict = AttestationVerdict.Pass };
        var writes = new AttestationStateWrites(null, null, T0.AddSeconds(1));
        for (int i = 0; i < 200; i++)
        {
            byte[] nonce = Guid.NewGuid().ToByteArray();
            await nonces.AddAsync(new IssuedNonce(vm, nonce, T0, T0.AddMinutes(5)), default);
            using var start = new Barrier(2);
            SpentResult[] spends = await Task.WhenAll(
                Task.Run(() => { start.SignalAndWait(); return first.AddSpendingNonceAsync(record, writes, nonce, default); }),
                Task.Run(() => { start.SignalAndWait(); return second.AddSpendingNonceAsync(record, writes, nonce, default); }));
            Assert.Single(spends, s => s.Nonce == NonceConsumption.Consumed && s.Record is not null);
            Assert.Single(spends, s => s.Nonce == NonceConsumption.AlreadyUsed && s.Record is null);
        }

        Assert.Equal(200, (await first.ListAsync(vm, 1000, default)).Count);
    }
}

public sealed class SqliteReplicaNonceTests() : ReplicaNonceTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresReplicaNonceTests(PostgresFixture postgres) : ReplicaNonceTests(postgres.Engine);
