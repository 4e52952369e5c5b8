using System.Data.Common;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;
using TrustedLaunch.Server.Tests.Http;
using TrustedLaunch.Server.Tests.Stores;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Posture;

/// <summary>
/// Posture work claimed per VM by two replicas' engines on one database: every stored result is folded by exactly one
/// committed evaluation, whichever replica stored it, and a replica that dies holding claims loses nothing once they expire.
/// </summary>
public abstract class PostureWorkClaimTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan ClaimPeriod = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task TwoReplicas_StoringAndEvaluatingAtOnce_FoldEveryResultExactlyOnce()
    {
        StoreDatabase other = OpenReplica();
        var time = new ManualTimeProvider(T0);
        using PostureEngine a = NewEngine(Database, "a", time, batchSize: 7);
        using PostureEngine b = NewEngine(other, "b", time, batchSize: 7);
        Guid[] vms = [.. Enumerable.Range(0, 30).Select(_ => Guid.NewGuid())];
        SqlAttestationResultStore[] stores = [new(Database), new(other)];
        const int Results = 300;

        Task producer = Task.Run(async () =>
        {
            for (int i = 0; i < Results; i++)
                await stores[i % 2].AddAsync(Failed(vms[i % vms.Length], T0.AddMilliseconds(i)), default);
        });
        int[] folded = await Task.WhenAll(EvaluateUntilDoneAsync(a, Database, producer), EvaluateUntilDoneAsync(b, other, producer));

        Assert.Equal(Results, folded.Sum());
        Assert.Equal(0, await new SqlPostureWork(Database).PendingAsync(default));
        await AssertFoldedUpToNewestAsync(vms);
    }

    [Fact]
    public async Task ReplicaDiesHoldingClaims_ClaimsExpire_AnotherReplicaFoldsThem_TheDeadOnesLateWriteIsRefused()
    {
        StoreDatabase other = OpenReplica();
        var time = new ManualTimeProvider(T0);
        using PostureEngine survivor = NewEngine(other, "survivor", time, batchSize: 100);
        var results = new SqlAttestationResultStore(Database);
        Guid[] vms = [.. Enumerable.Range(0, 20).Select(_ => Guid.NewGuid())];
        foreach (Guid vm in vms)
        {
            await results.AddAsync(Failed(vm, T0), default);
            await results.AddAsync(Failed(vm, T0.AddSeconds(1)), default);
        }

        // The dying replica claims 8 VMs (16 results) and never writes: killed between its claim and its transaction.
        var dying = new SqlPostureWork(Database);
        IReadOnlyList<PostureClaim> held = await dying.ClaimAsync("dying/1", T0, T0 + ClaimPeriod, 8, default);
        Assert.Equal(8, held.Count);

        // The survivor folds the rest and passes over the claimed VMs while their claims hold.
        Assert.Equal(24, (await survivor.RunClaimedAsync(default)).Results);
        time.Advance(ClaimPeriod - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, (await survivor.RunClaimedAsync(default)).Results);
        Assert.Equal(8, await dying.PendingAsync(default));

        // At expiry the survivor takes them over: nothing lost.
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(16, (await survivor.RunClaimedAsync(default)).Results);
        Assert.Equal(0, await dying.PendingAsync(default));
        await AssertFoldedUpToNewestAsync(vms);

        // Had the "dead" replica only stalled, its late batch over its old claims writes nothing: no result folded twice.
        var late = new PostureBatch { Claimant = "dying/1" };
        late.Releases.AddRange(held.Select(c => new PostureRelease(c.VmId, c.FoldedResultId, c.FoldedResultId + 1_000_000, c.StoredSeq)));
        Assert.False(await new SqlPostureStore(Database).ApplyAsync(late, default));
        await AssertFoldedUpToNewestAsync(vms);
    }

    [Fact]
    public async Task ResultStoredAfterTheClaim_IsFoldedByTheNextClaim()
    {
        var time = new ManualTimeProvider(T0);
        using PostureEngine engine = NewEngine(Database, "a", time, batchSize: 10);
        var results = new SqlAttestationResultStore(OpenReplica());
        Guid vm = Guid.NewGuid();
        await results.AddAsync(Failed(vm, T0), default);

        IReadOnlyList<PostureClaim> claims = await new SqlPostureWork(Database).ClaimAsync(engine.Claimant, T0, T0 + ClaimPeriod, 10, default);
        await results.AddAsync(Failed(vm, T0.AddSeconds(1)), default); // stored while the VM is claimed
        Assert.Single(claims);

        Assert.Equal(2, (await engine.RunClaimedAsync(default)).Results);
        Assert.Equal(0, (await engine.RunClaimedAsync(default)).Results);
        await results.AddAsync(Failed(vm, T0.AddSeconds(2)), default);
        Assert.Equal(1, (await engine.RunClaimedAsync(default)).Results);
        await AssertFoldedUpToNewestAsync([vm]);
    }

    private static async Task<int> EvaluateUntilDoneAsync(PostureEngine engine, StoreDatabase database, Task producer)
    {
        int folded = 0;
        while (true)
        {
            bool stored = producer.IsCompleted;
            int run = (await engine.RunClaimedAsync(default)).Results;
            folded += run;
            if (stored && run == 0 && await new SqlPostureWork(database).PendingAsync(default) == 0)
            {
                await producer;
                return folded;
            }
        }
    }

    private static PostureEngine NewEngine(StoreDatabase database, string replica, TimeProvider time, int batchSize) =>
        StoreBackedEngine.Create(database, replica, time, ClaimPeriod, batchSize);

    // Every VM's fold point is its newest result and nothing is claimed.
    private async Task AssertFoldedUpToNewestAsync(IEnumerable<Guid> vms)
    {
        await using DbConnection connection = await Database.OpenConnectionAsync(default);
        foreach (Guid vm in vms)
        {
            await using DbCommand command = SqlCommands.Create(connection, null,
                    "SELECT w.folded_result_id, (SELECT MAX(id) FROM attestation_results r WHERE r.vm_id = w.vm_id), w.claimed_by " +
                    "FROM posture_work w WHERE w.vm_id = @v")
                .With("@v", vm.ToString("D"));
            await using DbDataReader reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(reader.GetInt64(1), reader.GetInt64(0));
            Assert.True(reader.IsDBNull(2));
        }
    }

    private static AttestationRecord Failed(Guid vm, DateTimeOffset at) => new()
    {
        VmId = vm,
        At = at,
        Verdict = AttestationVerdict.Fail,
        Reason = "BaselineDeviation",
        Component = "pcr4",
        Message = "a deviation",
    };
}

public sealed class SqlitePostureWorkClaimTests() : PostureWorkClaimTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresPostureWorkClaimTests(PostgresFixture postgres) : PostureWorkClaimTests(postgres.Engine);
