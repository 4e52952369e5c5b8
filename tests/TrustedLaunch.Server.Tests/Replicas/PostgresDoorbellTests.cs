using Microsoft.Extensions.Logging.Abstractions;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.Server.Replicas;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Tests.Stores;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Replicas;

/// <summary>A change for a host made through one replica wakes that host's long-poll waiting in another (NOTIFY tl_hosts).</summary>
[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresDoorbellTests(PostgresFixture postgres) : StoreTests(postgres.Engine)
{
    [Fact]
    public async Task NotifyOnOneReplica_WakesThePollOfThatHostOnTheOther()
    {
        var signalsA = new HostSignals();
        var signalsB = new HostSignals();
        using var doorbellA = new PostgresDoorbell((PostgresDatabase)Database, signalsA, NullLogger<PostgresDoorbell>.Instance);
        using var doorbellB = new PostgresDoorbell((PostgresDatabase)OpenReplica(), signalsB, NullLogger<PostgresDoorbell>.Instance);
        await doorbellA.StartAsync(default);
        await doorbellB.StartAsync(default);
        await Task.Delay(500); // both LISTENs in place

        Task otherHost = signalsB.NextAsync("host-2");
        Task poll = signalsB.NextAsync("host-1");
        signalsA.Notify("host-1");

        Assert.Same(poll, await Task.WhenAny(poll, Task.Delay(TimeSpan.FromSeconds(10))));
        Assert.False(otherHost.IsCompleted);
        await doorbellA.StopAsync(default);
        await doorbellB.StopAsync(default);
    }
}
