using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;
using TrustedLaunch.Server.Tests.Stores;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Posture;

/// <summary>
/// VM changes evaluated by whichever replica claims them (no leader): every changed VM is evaluated by exactly one
/// committed batch, a replica that dies holding claims loses none once they expire, and a VM written again while claimed
/// is evaluated again.
/// </summary>
public abstract class PostureVmChangeClaimTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 7, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan ClaimPeriod = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task TwoReplicas_EvaluatingAtOnce_EachChangedVmRecordedOnce()
    {
        var time = new ManualTimeProvider(T0);
        using PostureEngine a = NewEngine(Database, "a", time, batchSize: 3);
        using PostureEngine b = NewEngine(OpenReplica(), "b", time, batchSize: 3);
        VirtualMachineRecord[] vms = await AddVmsAsync(20);

        PostureRun[] runs = await Task.WhenAll(a.RunClaimedAsync(default), b.RunClaimedAsync(default));
        PostureRun[] again = await Task.WhenAll(a.RunClaimedAsync(default), b.RunClaimedAsync(default));

        Assert.Equal(20, runs.Sum(r => r.VmsEvaluated) + again.Sum(r => r.VmsEvaluated));
        Assert.Equal(0, await Work.VmChanges.PendingAsync(default));
        foreach (VirtualMachineRecord vm in vms)
            Assert.Single(await new SqlPostureStore(Database).HistoryAsync(vm.VmId, Recommendations.SecureBoot.Key, default));
    }

    [Fact]
    public async Task ReplicaDiesHoldingVmChanges_ClaimsExpire_AnotherReplicaEvaluatesThem_TheDeadOnesLateWriteIsRefused()
    {
        var time = new ManualTimeProvider(T0);
        using PostureEngine survivor = NewEngine(OpenReplica(), "survivor", time, batchSize: 100);
        VirtualMachineRecord[] vms = await AddVmsAsync(12);

        // The dying replica feeds the changes, claims 5 and never writes: killed between its claim and its transaction.
        var dying = new SqlPostureVmChanges(Database);
        Assert.Equal(12, await dying.FeedAsync(100, default));
        IReadOnlyList<VmChangeClaim> held = await dying.ClaimAsync("dying/1", T0, T0 + ClaimPeriod, 5, default);
        Assert.Equal(5, held.Count);

        Assert.Equal(7, (await survivor.RunClaimedAsync(default)).VmsEvaluated);
        time.Advance(ClaimPeriod - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, (await survivor.RunClaimedAsync(default)).VmsEvaluated);
        Assert.Equal(5, await dying.PendingAsync(default));

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(5, (await survivor.RunClaimedAsync(default)).VmsEvaluated);
        Assert.Equal(0, await dying.PendingAsync(default));
        foreach (VirtualMachineRecord vm in vms)
            Assert.Equal(AssessmentStatusCode.Healthy, await SecureBootAsync(vm.VmId));

        // Had the "dead" replica only stalled, its late batch over its old claims writes nothing.
        var late = new PostureBatch { Claimant = "dying/1" };
        late.VmChanges.AddRange(held);
        Assert.False(await new SqlPostureStore(Database).ApplyAsync(late, default));
    }

    [Fact]
    public async Task VmWrittenAgainWhileClaimed_KeepsItsRow_EvaluatedAgain()
    {
        var time = new ManualTimeProvider(T0);
        using PostureEngine engine = NewEngine(Database, "a", time, batchSize: 10);
        VirtualMachineRecord vm = Assert.Single(await AddVmsAsync(1));
        var changes = new SqlPostureVmChanges(OpenReplica());
        await changes.FeedAsync(100, default);
        VmChangeClaim claim = Assert.Single(await changes.ClaimAsync(engine.Claimant, T0, T0 + ClaimPeriod, 10, default));

        // Secure Boot turned off after the claim; the claimant's evaluation of the old write is committed, the row stays.
        await SetSecureBootAsync(vm, enabled: false);
        Assert.Equal(1, await changes.FeedAsync(100, default));
        var evaluated = new PostureBatch { Claimant = engine.Claimant };
        evaluated.VmChanges.Add(claim);
        Assert.True(await new SqlPostureStore(Database).ApplyAsync(evaluated, default));
        Assert.Equal(1, await changes.PendingAsync(default));

        Assert.Equal(1, (await engine.RunClaimedAsync(default)).VmsEvaluated);
        Assert.Equal(AssessmentStatusCode.Unhealthy, await SecureBootAsync(vm.VmId));
        Assert.Equal(0, await changes.PendingAsync(default));
    }

    private SqlPostureWork Work => new(Database);

    private Task<VirtualMachineRecord[]> AddVmsAsync(int count) => StoredVmEdits.AddRunningVmsAsync(Database, T0, count);

    private Task SetSecureBootAsync(VirtualMachineRecord added, bool enabled) =>
        StoredVmEdits.SetSecureBootAsync(new SqlVirtualMachineStore(Database), added.VmId, enabled);

    private async Task<AssessmentStatusCode> SecureBootAsync(Guid vmId) =>
        (await new SqlPostureStore(Database).ListAssessmentsAsync(null, null, vmId, default)).Single(a => a.Key == Recommendations.SecureBoot.Key).Status;

    private static PostureEngine NewEngine(StoreDatabase database, string replica, TimeProvider time, int batchSize) =>
        StoreBackedEngine.Create(database, replica, time, ClaimPeriod, batchSize);
}

public sealed class SqlitePostureVmChangeClaimTests() : PostureVmChangeClaimTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresPostureVmChangeClaimTests(PostgresFixture postgres) : PostureVmChangeClaimTests(postgres.Engine);
