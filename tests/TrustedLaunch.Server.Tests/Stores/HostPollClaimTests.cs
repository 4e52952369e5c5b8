using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server.Replicas;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>
/// Host long-polls claimed per row on either engine (docs/scale-out.md, host long-polls): one replica serves a host's
/// poll at a time, renews while it waits, and another takes over only after release or expiry.
/// </summary>
public abstract class HostPollClaimTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 3, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(15);

    private SqlHostPollClaims Replica(string id, TimeSpan? lease = null, bool sameDatabase = false) =>
        new(sameDatabase ? Database : OpenReplica(), new ReplicaOptions { ReplicaId = id, LeaseDuration = lease ?? Period });

    [Fact]
    public async Task TryClaim_HeldUntilExpiry_RenewedByHolder_ThenTakenOverAndSwept()
    {
        SqlHostPollClaims a = Replica("a", sameDatabase: true), b = Replica("b");

        Assert.Null(await a.TryClaimAsync("Host-1", T0, default)); // the host's first poll creates its row
        Assert.Equal(T0 + Period, await b.TryClaimAsync("host-1", T0.AddSeconds(14), default)); // names compare as Azure's do
        Assert.Null(await a.TryClaimAsync("host-1", T0.AddSeconds(10), default)); // renewal: until T0+25
        Assert.Equal(T0.AddSeconds(25), await b.TryClaimAsync("host-1", T0.AddSeconds(24), default));
        Assert.Null(await b.TryClaimAsync("host-2", T0.AddSeconds(20), default)); // another host's row: independent
        Assert.Equal("a", await b.HolderAsync("host-1", T0.AddSeconds(24), default));

        // a is killed mid-poll (stops renewing): the sweeper clears its expired claim, b's next claim takes the row,
        // and a's late renewal no longer holds.
        Assert.Equal(0, await b.SweepExpiredAsync(T0.AddSeconds(24), default));
        Assert.Equal(1, await b.SweepExpiredAsync(T0.AddSeconds(25), default));
        Assert.Null(await a.HolderAsync("host-1", T0.AddSeconds(25), default));
        Assert.Null(await b.TryClaimAsync("host-1", T0.AddSeconds(25), default));
        Assert.Equal(T0.AddSeconds(40), await a.TryClaimAsync("host-1", T0.AddSeconds(26), default));
        Assert.Equal("b", await a.HolderAsync("host-1", T0.AddSeconds(26), default));
    }

    [Fact]
    public async Task TryClaim_ExpiredWithoutSweep_TakenOverByTheNextClaimer()
    {
        SqlHostPollClaims a = Replica("a", sameDatabase: true), b = Replica("b");
        Assert.Null(await a.TryClaimAsync("host-1", T0, default));
        Assert.Null(await b.TryClaimAsync("host-1", T0 + Period, default));
        Assert.Equal("b", await a.HolderAsync("host-1", T0 + Period, default));
    }

    [Fact]
    public async Task Release_HandsOverAtOnce_OnlyByTheHolder()
    {
        SqlHostPollClaims a = Replica("a", sameDatabase: true), b = Replica("b");
        Assert.Null(await a.TryClaimAsync("host-1", T0, default));

        await b.ReleaseAsync("host-1", default);
        Assert.NotNull(await b.TryClaimAsync("host-1", T0.AddSeconds(1), default));
        await a.ReleaseAsync("host-1", default);
        Assert.Null(await b.TryClaimAsync("host-1", T0.AddSeconds(1), default));
    }

    [Fact]
    public async Task TryClaim_ManyReplicasAtOnce_ExactlyOneServesTheHost()
    {
        SqlHostPollClaims[] replicas = Enumerable.Range(0, 4).Select(i => Replica($"r{i}")).ToArray();
        for (int round = 0; round < 50; round++)
        {
            // Each round the previous claim has expired (and round 0 creates the row): every replica contends again.
            DateTimeOffset now = T0.AddMinutes(round);
            DateTimeOffset?[] outcomes = await Task.WhenAll(replicas.Select(r => Task.Run(() => r.TryClaimAsync("contended", now, default))));
            Assert.Equal(1, outcomes.Count(o => o is null));
            Assert.All(outcomes.Where(o => o is not null), o => Assert.True(o > now));
            Assert.Equal($"r{Array.IndexOf(outcomes, null)}", await replicas[0].HolderAsync("contended", now, default));
        }
    }

    [Fact]
    public async Task Wait_OnAReplicaWhoseClaimIsHeldByAKilledOne_IsServedThereAfterExpiry()
    {
        // Replica a served host-1's poll and was killed mid-poll: its claim stays until it expires (2 s here).
        TimeSpan lease = TimeSpan.FromSeconds(2);
        SqlHostPollClaims killed = Replica("a", lease, sameDatabase: true), b = Replica("b", lease);
        Assert.Null(await killed.TryClaimAsync("host-1", TimeProvider.System.GetUtcNow(), default));

        // The host's next poll reaches b, which waits for the claim, takes it, re-reads (nothing changed) and then serves
        // the host: a change rung on b answers the poll.
        var signals = new HostSignals();
        var wait = new HostPollWait(b, signals, TimeProvider.System);
        var reread = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task poll = wait.WaitAsync("host-1", signals.NextAsync("host-1"), TimeProvider.System.GetUtcNow().AddSeconds(60), () =>
        {
            reread.TrySetResult();
            return Task.FromResult(true);
        }, default, default);

        Assert.Equal("a", await b.HolderAsync("host-1", TimeProvider.System.GetUtcNow(), default));
        Assert.Same(reread.Task, await Task.WhenAny(reread.Task, Task.Delay(TimeSpan.FromSeconds(30))));
        Assert.Equal("b", await b.HolderAsync("host-1", TimeProvider.System.GetUtcNow(), default));
        Assert.False(poll.IsCompleted);

        signals.Notify("host-1");
        Assert.Same(poll, await Task.WhenAny(poll, Task.Delay(TimeSpan.FromSeconds(30))));
        await poll;
        Assert.Null(await b.HolderAsync("host-1", TimeProvider.System.GetUtcNow(), default)); // released as the poll answered
    }

    [Fact]
    public async Task Wait_ChangedWhileAnotherReplicaHeldTheClaim_AnswersAsSoonAsItIsTaken()
    {
        TimeSpan lease = TimeSpan.FromSeconds(3); // b looks again every second
        SqlHostPollClaims a = Replica("a", lease, sameDatabase: true), b = Replica("b", lease);
        Assert.Null(await a.TryClaimAsync("host-1", TimeProvider.System.GetUtcNow(), default));
        var signals = new HostSignals();
        var seen = new RefusalSeen(b);
        Task poll = new HostPollWait(seen, signals, TimeProvider.System).WaitAsync("host-1", signals.NextAsync("host-1"),
            TimeProvider.System.GetUtcNow().AddSeconds(60), () => Task.FromResult(false), default, default);

        await seen.Refused.WaitAsync(TimeSpan.FromSeconds(30)); // b found a's claim and waits for it
        await a.ReleaseAsync("host-1", default); // a's poll answered; b takes the claim at its next look and re-reads
        Assert.Same(poll, await Task.WhenAny(poll, Task.Delay(TimeSpan.FromSeconds(30))));
        await poll;
        Assert.Null(await b.HolderAsync("host-1", TimeProvider.System.GetUtcNow(), default));
    }
}

// The real claims of a replica, telling when one was refused (another replica held the row).
internal sealed class RefusalSeen(IHostPollClaims inner) : IHostPollClaims
{
    private readonly TaskCompletionSource _refused = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Refused => _refused.Task;

    public TimeSpan Duration => inner.Duration;

    public async Task<DateTimeOffset?> TryClaimAsync(string hostName, DateTimeOffset now, CancellationToken cancellationToken)
    {
        DateTimeOffset? other = await inner.TryClaimAsync(hostName, now, cancellationToken);
        if (other is not null)
            _refused.TrySetResult();
        return other;
    }

    public Task ReleaseAsync(string hostName, CancellationToken cancellationToken) => inner.ReleaseAsync(hostName, cancellationToken);
}

public sealed class SqliteHostPollClaimTests() : HostPollClaimTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresHostPollClaimTests(PostgresFixture postgres) : HostPollClaimTests(postgres.Engine);
