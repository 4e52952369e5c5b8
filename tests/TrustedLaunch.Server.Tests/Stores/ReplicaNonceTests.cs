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
}

public sealed class SqliteReplicaNonceTests() : ReplicaNonceTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresReplicaNonceTests(PostgresFixture postgres) : ReplicaNonceTests(postgres.Engine);
