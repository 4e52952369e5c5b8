using Microsoft.Extensions.Logging.Abstractions;
using TrustedLaunch.Server.Replicas;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Tests.Stores;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Replicas;

/// <summary>The maintenance leader among replicas of one database, on real time with a short lease.</summary>
public abstract class MaintenanceLeaderTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(900);

    private MaintenanceLeader Replica(string id) =>
        new(new SqlLeaseStore(OpenReplica()), new ReplicaOptions { ReplicaId = id, LeaseDuration = Lease }, TimeProvider.System,
            NullLogger<MaintenanceLeader>.Instance);

    [Fact]
    public async Task TwoReplicas_ExactlyOneLeads_AndACleanStopHandsOverAtOnce()
    {
        using MaintenanceLeader a = Replica("a");
        using MaintenanceLeader b = Replica("b");
        await a.StartAsync(default);
        await b.StartAsync(default);
        Assert.True(a.IsLeader);
        Assert.False(b.IsLeader);

        await a.StopAsync(default); // releases the lease
        Assert.False(a.IsLeader);
        Assert.True(await Eventually(() => b.IsLeader, Lease), "b did not take over after a released the lease");
        await b.StopAsync(default);
    }

    [Fact]
    public async Task LeaderKilled_AnotherLeadsWithinOneLeasePeriod()
    {
        // A replica that took the lease and died (no renewal, no release).
        var dead = new SqlLeaseStore(OpenReplica());
        Assert.True(await dead.TryAcquireAsync(MaintenanceLeader.LeaseName, "dead", DateTimeOffset.UtcNow, Lease, default));
        using MaintenanceLeader b = Replica("b");
        await b.StartAsync(default);
        Assert.False(b.IsLeader);

        Assert.True(await Eventually(() => b.IsLeader, Lease + Lease), "b did not lead within a lease period of the holder's death");
        await b.StopAsync(default);
    }

    private static async Task<bool> Eventually(Func<bool> condition, TimeSpan within)
    {
        DateTime deadline = DateTime.UtcNow + within + TimeSpan.FromSeconds(2); // scheduling slack on a loaded machine
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
                return true;
            await Task.Delay(20);
        }

        return condition();
    }
}

public sealed class SqliteMaintenanceLeaderTests() : MaintenanceLeaderTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresMaintenanceLeaderTests(PostgresFixture postgres) : MaintenanceLeaderTests(postgres.Engine);
