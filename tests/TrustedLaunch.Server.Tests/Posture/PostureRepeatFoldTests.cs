using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;
using TrustedLaunch.Server.Tests.Stores;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Posture;

/// <summary>
/// A repeat folded where it is stored (docs/posture.md), on either engine: a result like the one posture last folded for
/// its VM, when that would change nothing but the count of open alerts, is folded in its own transaction (no engine run,
/// no signal), and everything that could make it mean more — an alert closed by a person, the VM or the plans changed, a
/// pass after a failure, a sweep's finding — sends the next one through the engine again.
/// </summary>
public abstract class PostureRepeatFoldTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 10, 0, 0, TimeSpan.Zero);

    private readonly ManualTimeProvider _time = new(T0);
    private readonly PostureSignals _signals = new();

    private SignallingResultStore Results => new SignallingResultStore(new SqlAttestationResultStore(Database), _signals);

    private SqlPostureStore Store => new(Database);

    private SqlSecurityStore Security => new(Database);

    [Fact]
    public async Task HealthyPassRepeated_FoldedWhereStored_NoSignal_TheEngineFindsNothing_TheNewestResultIsSeen()
    {
        using PostureEngine posture = NewEngine();
        VirtualMachineRecord vm = (await StoredVmEdits.AddRunningVmsAsync(Database, T0, 1))[0];
        Assert.False((await AddAsync(Pass(vm.VmId, iat: 1))).PostureFolded);
        Assert.Equal(1, (await posture.RunClaimedAsync(default)).Results);

        Task wake = _signals.NextEvaluationAsync();
        _time.Advance(TimeSpan.FromSeconds(60));
        AttestationRecord repeat = await AddAsync(Pass(vm.VmId, iat: 2)); // another token: its time and id differ, not what posture reads

        Assert.True(repeat.PostureFolded);
        Assert.False(wake.IsCompleted);
        Assert.Equal(0, await new SqlPostureWork(Database).PendingAsync(default));
        Assert.Equal(new PostureRun(0, 0, 0, 0, 0, 0), await posture.RunClaimedAsync(default));
        Assert.Equal(repeat.Id, (await Store.LatestResultsAsync([vm.VmId], default))[vm.VmId].Latest!.Id);
        Assert.Equal(AssessmentStatusCode.Healthy, await StatusAsync(vm.VmId, Recommendations.AttestationHealth.Key));
    }

    [Fact]
    public async Task VmNotInTheControlPlane_AnyResultFoldsAsNothingWhereStored_UntilTheControlPlaneHoldsIt()
    {
        using PostureEngine posture = NewEngine();
        Guid registeredOnly = Guid.NewGuid(); // tl server vm add: attested, no posture
        Assert.False((await AddAsync(Pass(registeredOnly, iat: 1))).PostureFolded);
        Assert.Equal(1, (await posture.RunClaimedAsync(default)).Results);
        Assert.True((await AddAsync(Pass(registeredOnly, iat: 2))).PostureFolded);
        Assert.True((await AddAsync(Deviation(registeredOnly, "anything at all"))).PostureFolded);

        // A VM the control plane holds and then deletes: its marks no longer hold once it is gone; then it folds as nothing.
        VirtualMachineRecord vm = (await StoredVmEdits.AddRunningVmsAsync(Database, T0, 1))[0];
        await AddAsync(Pass(vm.VmId, iat: 1));
        await posture.RunClaimedAsync(default);
        var machines = new SqlVirtualMachineStore(Database);
        VirtualMachineRecord stored = (await machines.GetByVmIdAsync(vm.VmId, default))!;
        Assert.Equal(WriteOutcome.Written, await machines.WriteAsync(
            new VirtualMachineWrite { Key = stored.Key, Record = null, ExpectedSequence = stored.ChangeSequence }, default));
        Assert.False((await AddAsync(Pass(vm.VmId, iat: 2))).PostureFolded);
        await posture.RunClaimedAsync(default);
        Assert.True((await AddAsync(Pass(vm.VmId, iat: 3))).PostureFolded);
    }

    [Fact]
    public async Task RepeatedFailure_CountsOnTheOpenAlertWhereStored_TheEngineCarriesTheCountOn()
    {
        using PostureEngine posture = NewEngine();
        VirtualMachineRecord vm = await StandardVmWithDeviationAsync();
        Assert.Equal(1, (await posture.RunClaimedAsync(default)).AlertsCreated);
        long events = await Security.LastEventSeqAsync(default);

        _time.Advance(TimeSpan.FromSeconds(60));
        AttestationRecord second = await AddAsync(Deviation(vm.VmId, "PCR 7 differs"));
        Assert.True(second.PostureFolded);
        SecurityAlert alert = Assert.Single(await Store.OpenAlertsAsync(vm.VmId, default));
        Assert.Equal((2, second.At, second.Id), (alert.Count, alert.EndTimeUtc, alert.LastResultId));
        Assert.Equal("2", alert.ExtendedProperties["occurrences"]);
        Assert.Equal(second.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), alert.ExtendedProperties["attestationResultId"]);
        Assert.Equal(events, await Security.LastEventSeqAsync(default)); // a repeat announces nothing, as the engine's does not

        // A different message is another observation: the engine folds it over the count the stored repeats reached.
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.False((await AddAsync(Deviation(vm.VmId, "PCR 7 and PCR 4 differ"))).PostureFolded);
        Assert.Equal(1, (await posture.RunClaimedAsync(default)).Results);
        _time.Advance(TimeSpan.FromSeconds(60));
        AttestationRecord fourth = await AddAsync(Deviation(vm.VmId, "PCR 7 and PCR 4 differ"));
        Assert.True(fourth.PostureFolded);
        alert = Assert.Single(await Store.OpenAlertsAsync(vm.VmId, default));
        Assert.Equal((4, fourth.At), (alert.Count, alert.EndTimeUtc));
        Assert.Equal("PCR 7 and PCR 4 differ", alert.ExtendedProperties["message"]);
        Assert.Equal(4, (await Store.GetAlertAsync(vm.SubscriptionId, alert.Name, default))!.Count);
    }

    [Fact]
    public async Task RepeatsCountedUnderAMark_KeptWhenTheNextResultNoLongerRepeatsTheAlert()
    {
        using PostureEngine posture = NewEngine();
        VirtualMachineRecord vm = (await StoredVmEdits.AddRunningVmsAsync(Database, T0, 1))[0];
        await Security.SetTierAsync(vm.SubscriptionId, PricingTier.Standard, T0, default);
        await AddAsync(Pass(vm.VmId, iat: 1, Refused));
        Assert.Equal(1, (await posture.RunClaimedAsync(default)).AlertsCreated);
        for (int i = 2; i <= 3; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(60));
            Assert.True((await AddAsync(Pass(vm.VmId, iat: i, Refused))).PostureFolded);
        }

        // The module is no longer refused (another boot's log): the engine folds it; the alert stays open, its count kept.
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.False((await AddAsync(Pass(vm.VmId, iat: 4))).PostureFolded);
        await posture.RunClaimedAsync(default);
        for (int i = 5; i <= 6; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(60));
            Assert.True((await AddAsync(Pass(vm.VmId, iat: i))).PostureFolded);
        }

        SecurityAlert alert = Assert.Single(await Store.OpenAlertsAsync(vm.VmId, default));
        Assert.Equal((AlertTypes.UntrustedKernelModule, 3, T0.AddSeconds(120)), (alert.AlertType, alert.Count, alert.EndTimeUtc));
        Assert.Equal("3", alert.ExtendedProperties["occurrences"]);
    }

    [Fact]
    public async Task AlertResolvedByAPerson_TheNextRepeatGoesThroughTheEngine_ANewAlert()
    {
        using PostureEngine posture = NewEngine();
        VirtualMachineRecord vm = await StandardVmWithDeviationAsync();
        await posture.RunClaimedAsync(default);
        SecurityAlert first = Assert.Single(await Store.OpenAlertsAsync(vm.VmId, default));
        Assert.True(await Security.SaveAlertAsync(first, AlertLedger.WithStatus(first, AlertStatus.Resolved, _time.GetUtcNow()), null, default));

        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.False((await AddAsync(Deviation(vm.VmId, "PCR 7 differs"))).PostureFolded);
        Assert.Equal(1, (await posture.RunClaimedAsync(default)).AlertsCreated);

        SecurityAlert second = Assert.Single(await Store.OpenAlertsAsync(vm.VmId, default));
        Assert.NotEqual(first.Name, second.Name);
        Assert.Equal(1, second.Count);
        Assert.Equal((AlertStatus.Resolved, 1), await Store.GetAlertAsync(vm.SubscriptionId, first.Name, default) is { } resolved ? (resolved.Status, resolved.Count) : default);
    }

    [Fact]
    public async Task VmOrPlansChanged_TheNextResultGoesThroughTheEngine_ThenRepeatsFoldWhereStoredAgain()
    {
        using PostureEngine posture = NewEngine();
        VirtualMachineRecord vm = (await StoredVmEdits.AddRunningVmsAsync(Database, T0, 1))[0];
        await AddAsync(Pass(vm.VmId, iat: 1));
        await posture.RunClaimedAsync(default);
        Assert.True((await AddAsync(Pass(vm.VmId, iat: 2))).PostureFolded);

        await StoredVmEdits.SetSecureBootAsync(new SqlVirtualMachineStore(Database), vm.VmId, enabled: true); // a new version of the VM
        Assert.False((await AddAsync(Pass(vm.VmId, iat: 3))).PostureFolded);
        await posture.RunClaimedAsync(default);
        Assert.True((await AddAsync(Pass(vm.VmId, iat: 4))).PostureFolded);

        await Security.SetTierAsync(vm.SubscriptionId, PricingTier.Standard, _time.GetUtcNow(), default);
        Assert.False((await AddAsync(Pass(vm.VmId, iat: 5))).PostureFolded);
        await posture.RunClaimedAsync(default);
        Assert.True((await AddAsync(Pass(vm.VmId, iat: 6))).PostureFolded);
    }

    [Fact]
    public async Task PassesAfterAFailureAlert_EachIsWrittenIntoTheAlertByTheEngine()
    {
        using PostureEngine posture = NewEngine();
        VirtualMachineRecord vm = await StandardVmWithDeviationAsync();
        await posture.RunClaimedAsync(default);

        for (int pass = 1; pass <= 2; pass++)
        {
            _time.Advance(TimeSpan.FromSeconds(60));
            Assert.False((await AddAsync(Pass(vm.VmId, iat: pass))).PostureFolded);
            Assert.Equal(1, (await posture.RunClaimedAsync(default)).Results);
            SecurityAlert alert = Assert.Single(await Store.OpenAlertsAsync(vm.VmId, default));
            Assert.Equal(pass.ToString(System.Globalization.CultureInfo.InvariantCulture), alert.ExtendedProperties["passesSinceAlert"]);
        }
    }

    [Fact]
    public async Task StaleAttestationFoundBySweep_TheNextPassGoesThroughTheEngine_HealthyAgain()
    {
        using PostureEngine posture = NewEngine();
        VirtualMachineRecord vm = (await StoredVmEdits.AddRunningVmsAsync(Database, T0, 1))[0];
        await AddAsync(Pass(vm.VmId, iat: 1));
        await posture.RunOnceAsync(fullSweep: true, default);
        Assert.True((await AddAsync(Pass(vm.VmId, iat: 2))).PostureFolded);

        _time.Advance(TimeSpan.FromMinutes(4)); // past three 60 s intervals
        await posture.RunOnceAsync(fullSweep: true, default);
        Assert.Equal(AssessmentStatusCode.Unhealthy, await StatusAsync(vm.VmId, Recommendations.AttestationHealth.Key));

        Assert.False((await AddAsync(Pass(vm.VmId, iat: 3))).PostureFolded);
        await posture.RunClaimedAsync(default);
        Assert.Equal(AssessmentStatusCode.Healthy, await StatusAsync(vm.VmId, Recommendations.AttestationHealth.Key));
        Assert.True((await AddAsync(Pass(vm.VmId, iat: 4))).PostureFolded);
    }

    [Fact]
    public async Task RepeatedFailure_HealthDescriptionCarriesNoTime_AFailingVmRewritesNothing()
    {
        using PostureEngine posture = NewEngine();
        VirtualMachineRecord vm = (await StoredVmEdits.AddRunningVmsAsync(Database, T0, 1))[0];
        await AddAsync(Deviation(vm.VmId, "PCR 7 differs"));
        await posture.RunClaimedAsync(default);
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.True((await AddAsync(Deviation(vm.VmId, "PCR 7 differs"))).PostureFolded);

        Assert.Equal(new PostureRun(0, 1, 0, 0, 0, 0), await posture.RunOnceAsync(fullSweep: true, default)); // the sweep agrees: nothing to write
        StoredAssessment health = (await Store.ListAssessmentsAsync(null, null, vm.VmId, default)).Single(a => a.Key == Recommendations.AttestationHealth.Key);
        Assert.Equal("The latest attestation failed: BaselineDeviation: PCR[7]: PCR 7 differs", health.Description);
    }

    [Fact]
    public async Task NoAnswerRepeated_OnStandard_GoesThroughTheEngine_ALaterOneCouldBeOverdue()
    {
        using PostureEngine posture = NewEngine();
        VirtualMachineRecord vm = (await StoredVmEdits.AddRunningVmsAsync(Database, T0, 1))[0];
        await Security.SetTierAsync(vm.SubscriptionId, PricingTier.Standard, T0, default);
        for (int i = 0; i < 3; i++)
        {
            Assert.False((await AddAsync(new AttestationRecord
            {
                VmId = vm.VmId, At = _time.GetUtcNow(), Verdict = AttestationVerdict.Fail, Reason = "NonceRejected", Component = "nonce: Expired", Message = "expired",
            })).PostureFolded);
            await posture.RunClaimedAsync(default);
            _time.Advance(TimeSpan.FromSeconds(60));
        }
    }

    [Fact]
    public async Task ClearedWhileABatchWasComputing_TheBatchsMarkIsNotSet()
    {
        VirtualMachineRecord[] vms = await StoredVmEdits.AddRunningVmsAsync(Database, T0, 2);
        foreach (VirtualMachineRecord vm in vms)
            await new SqlAttestationResultStore(Database).AddAsync(Pass(vm.VmId, iat: 1), default);
        var work = new SqlPostureWork(Database);
        IReadOnlyList<PostureClaim> claims = await work.ClaimAsync("x", T0, T0.AddSeconds(15), 10, default);

        // Between the claim and the batch's write, another writer (a sweep's boot state here) writes for the first VM.
        var sweep = new PostureBatch();
        sweep.BootStates.Add(new BootStateWrite(null, new VmBootState(vms[0].VmId, true, 0, T0)));
        Assert.True(await Store.ApplyAsync(sweep, default));

        var batch = new PostureBatch { Claimant = "x" };
        foreach (PostureClaim claim in claims)
        {
            batch.Releases.Add(new PostureRelease(claim.VmId, claim.FoldedResultId, claim.FoldedResultId + 1, claim.StoredSeq, claim.RepeatEpoch));
            batch.Repeats[claim.VmId] = new RepeatMark("f00d", "f00d:1", 1, 0);
        }

        Assert.True(await Store.ApplyAsync(batch, default));
        Assert.Equal("", await RepeatFingerprintAsync(vms[0].VmId));
        Assert.Equal("f00d", await RepeatFingerprintAsync(vms[1].VmId));
    }

    [Fact]
    public async Task AlertsStoredBeforeSchema20_Upgraded_CountEndAndLastResultAsColumns_StatusActionsStillGuarded()
    {
        using PostureEngine posture = NewEngine();
        VirtualMachineRecord vm = await StandardVmWithDeviationAsync();
        await posture.RunClaimedAsync(default);
        _time.Advance(TimeSpan.FromSeconds(60));
        await AddAsync(Deviation(vm.VmId, "PCR 7 and PCR 4 differ"));
        await posture.RunClaimedAsync(default);
        SecurityAlert written = Assert.Single(await Store.OpenAlertsAsync(vm.VmId, default));
        string json = System.Text.Json.JsonSerializer.Serialize(written, PostureJson.Default.SecurityAlert);

        // The same alert in a database as schema 19 left it (no columns), opened by this service.
        string old = Engine.NewDatabase();
        try
        {
            await using (System.Data.Common.DbConnection raw = RawDatabase.Connect(old))
            {
                await raw.OpenAsync();
                await RawDatabase.MigrateAsync(raw, old, 19);
                await RawDatabase.ExecuteAsync(raw, "INSERT INTO security_alerts (name, subscription_id, group_key, vm_id, dedup_key, status, alert_json) " +
                    "VALUES (@n, @s, 'RG1', @v, @d, 'Active', @j)", ("@n", written.Name), ("@s", SqlResourceGroupStore.Subscription(written.SubscriptionId)),
                    ("@v", vm.VmId.ToString("D")), ("@d", written.DedupKey), ("@j", json));
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            using StoreDatabase upgraded = StoreDatabase.Open(old);
            SecurityAlert read = Assert.Single(await new SqlPostureStore(upgraded).OpenAlertsAsync(vm.VmId, default));
            Assert.Equal((2, written.EndTimeUtc, written.LastResultId), (read.Count, read.EndTimeUtc, read.LastResultId));
            Assert.Equal(json, System.Text.Json.JsonSerializer.Serialize(read, PostureJson.Default.SecurityAlert));
            SecurityAlert resolved = AlertLedger.WithStatus(read, AlertStatus.Resolved, _time.GetUtcNow());
            Assert.False(await new SqlSecurityStore(upgraded).SaveAlertAsync(read with { Count = 1 }, resolved, null, default)); // stale: refused
            Assert.True(await new SqlSecurityStore(upgraded).SaveAlertAsync(read, resolved, null, default));
        }
        finally
        {
            Engine.Release(old);
        }
    }

    private async Task<string> RepeatFingerprintAsync(Guid vmId)
    {
        await using System.Data.Common.DbConnection connection = await Database.OpenConnectionAsync(default);
        await using System.Data.Common.DbCommand command = SqlCommands.Create(connection, null, "SELECT repeat_fp FROM posture_work WHERE vm_id = @v")
            .With("@v", vmId.ToString("D"));
        return (string)(await command.ExecuteScalarAsync())!;
    }

    // A running VM on plan Standard whose first result, a baseline deviation, is stored (not yet folded).
    private async Task<VirtualMachineRecord> StandardVmWithDeviationAsync()
    {
        VirtualMachineRecord vm = (await StoredVmEdits.AddRunningVmsAsync(Database, T0, 1))[0];
        await Security.SetTierAsync(vm.SubscriptionId, PricingTier.Standard, T0, default);
        await AddAsync(Deviation(vm.VmId, "PCR 7 differs"));
        return vm;
    }

    private Task<AttestationRecord> AddAsync(AttestationRecord record) => Results.AddAsync(record, default);

    private async Task<AssessmentStatusCode> StatusAsync(Guid vmId, string key) =>
        (await Store.ListAssessmentsAsync(null, null, vmId, default)).Single(a => a.Key == key).Status;

    private const string Refused = """[{"kind":"module-rejected","module":"ttyprintk","message":"Loading of unsigned module is rejected","at":"2026-12-06T09:59:00Z"}]""";

    // A pass's token claims: what posture reads (policy, findings) and what differs from one token to the next (iat, jti).
    private AttestationRecord Pass(Guid vm, int iat, string findings = "[]") => new()
    {
        VmId = vm, At = _time.GetUtcNow(), Verdict = AttestationVerdict.Pass, TokenId = $"jti-{iat}",
        ClaimsJson = $$"""{"iat":{{iat}},"jti":"jti-{{iat}}","x-tl-policy":"minimum","x-tl-findings":{{findings}}}""",
    };

    private AttestationRecord Deviation(Guid vm, string message) => new()
    {
        VmId = vm, At = _time.GetUtcNow(), Verdict = AttestationVerdict.Fail, Reason = "BaselineDeviation", Component = "PCR[7]", Message = message,
        ClaimsJson = """{"policy":"minimum","pcrDeviations":[{"stage":"secure boot","pcr":7,"bank":"sha256","expected":"aa","actual":"bb","description":"db changed"}]}""",
    };

    private PostureEngine NewEngine() => StoreBackedEngine.Create(Database, "a", _time, TimeSpan.FromSeconds(15), signals: _signals);
}

public sealed class SqlitePostureRepeatFoldTests() : PostureRepeatFoldTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresPostureRepeatFoldTests(PostgresFixture postgres) : PostureRepeatFoldTests(postgres.Engine);
