using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>Table leases on either engine: one holder at a time, renewed by it, taken over only after expiry.</summary>
public abstract class LeaseStoreTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task TryAcquire_HeldUntilExpiry_RenewedByHolder_ThenTakenOver()
    {
        var a = new SqlLeaseStore(Database);
        var b = new SqlLeaseStore(OpenReplica());

        Assert.True(await a.TryAcquireAsync("maintenance", "a", T0, Period, default));
        Assert.False(await b.TryAcquireAsync("maintenance", "b", T0.AddSeconds(14), Period, default));
        Assert.True(await a.TryAcquireAsync("maintenance", "a", T0.AddSeconds(10), Period, default)); // renewal: until T0+25
        Assert.False(await b.TryAcquireAsync("maintenance", "b", T0.AddSeconds(24), Period, default));
        Assert.Equal(new LeaseRecord("maintenance", "a", T0.AddSeconds(25), T0), await b.GetAsync("maintenance", default));

        // a stops renewing (killed): at expiry b takes over, and a's late renewal no longer holds.
        Assert.True(await b.TryAcquireAsync("maintenance", "b", T0.AddSeconds(25), Period, default));
        Assert.False(await a.TryAcquireAsync("maintenance", "a", T0.AddSeconds(26), Period, default));
        Assert.Equal(new LeaseRecord("maintenance", "b", T0.AddSeconds(40), T0.AddSeconds(25)), await a.GetAsync("maintenance", default));
    }

    [Fact]
    public async Task Release_HandsOverAtOnce_OnlyByTheHolder()
    {
        var a = new SqlLeaseStore(Database);
        var b = new SqlLeaseStore(OpenReplica());
        Assert.True(await a.TryAcquireAsync("maintenance", "a", T0, Period, default));

        await b.ReleaseAsync("maintenance", "b", default);
        Assert.False(await b.TryAcquireAsync("maintenance", "b", T0.AddSeconds(1), Period, default));
        await a.ReleaseAsync("maintenance", "a", default);
        Assert.True(await b.TryAcquireAsync("maintenance", "b", T0.AddSeconds(1), Period, default));
        Assert.Null(await a.GetAsync("other", default));
    }

    [Fact]
    public async Task TryAcquire_ManyReplicasAtOnce_ExactlyOneHolds()
    {
        SqlLeaseStore[] replicas = Enumerable.Range(0, 4).Select(_ => new SqlLeaseStore(OpenReplica())).ToArray();
        for (int round = 0; round < 50; round++)
        {
            // Each round the previous lease has expired: every replica contends again.
            DateTimeOffset now = T0.AddMinutes(round);
            bool[] held = await Task.WhenAll(replicas.Select((r, i) => Task.Run(() => r.TryAcquireAsync("contended", $"r{i}", now, Period, default))));
            Assert.Equal(1, held.Count(h => h));
            Assert.Equal($"r{Array.IndexOf(held, true)}", (await replicas[0].GetAsync("contended", default))!.Holder);
        }
    }
}

public sealed class SqliteLeaseStoreTests() : LeaseStoreTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresLeaseStoreTests(PostgresFixture postgres) : LeaseStoreTests(postgres.Engine);
