using Microsoft.Extensions.Logging.Abstractions;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Posture.Suppression;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Replicas;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Tests.Posture;

/// <summary>
/// What the engine keeps between runs (VM records by change sequence, stored assessments by their version, plans and
/// suppression rules by theirs) is never used once the store changed it: a VM update, another replica's assessment
/// write, a plan change, a rule added and deleted are each seen by the next evaluation of a result.
/// </summary>
public sealed class PostureCacheTests : IAsyncLifetime
{
    private readonly PostureTestService _arm = new(caDirectory: null, backgroundWork: false);

    public Task InitializeAsync() => _arm.InitializeAsync();

    public Task DisposeAsync() => _arm.DisposeAsync();

    private PostureEngine Engine => _arm.Service.Service<PostureEngine>();

    private SqlPostureStore Store => _arm.Service.Service<SqlPostureStore>();

    [Fact]
    public async Task VmUpdated_BetweenTwoResults_NextResultsEvaluationSeesTheUpdate()
    {
        string group = await _arm.CreateGroupAsync();
        VirtualMachineRecord vm = await _arm.AddRunningVmAsync(group, "vm1");
        await _arm.AddResultAsync(vm.VmId);
        await Engine.RunClaimedAsync(default);
        await _arm.AddResultAsync(vm.VmId);
        await Engine.RunClaimedAsync(default); // the record is held now
        Assert.Equal(AssessmentStatusCode.Healthy, await StatusAsync(vm.VmId, Recommendations.SecureBoot.Key));

        // Secure Boot turned off; another replica evaluates that change, then this engine folds the VM's next result.
        await SetSecureBootAsync(vm.VmId, enabled: false);
        using PostureEngine other = OtherReplica();
        await other.RunOnceAsync(fullSweep: false, default);
        Assert.Equal(AssessmentStatusCode.Unhealthy, await StatusAsync(vm.VmId, Recommendations.SecureBoot.Key));
        await _arm.AddResultAsync(vm.VmId);
        PostureRun run = await Engine.RunClaimedAsync(default);

        // Evaluated from the VM as stored (off): nothing to change. From the record held before, it would turn Healthy again.
        Assert.Equal(0, run.StatusChanges);
        Assert.Equal(AssessmentStatusCode.Unhealthy, await StatusAsync(vm.VmId, Recommendations.SecureBoot.Key));
    }

    [Fact]
    public async Task AssessmentWrittenByAnotherReplica_NextResultsEvaluationReadsItAgain()
    {
        string group = await _arm.CreateGroupAsync();
        VirtualMachineRecord vm = await _arm.AddRunningVmAsync(group, "vm1");
        await _arm.AddResultAsync(vm.VmId);
        await Engine.RunClaimedAsync(default);
        await _arm.AddResultAsync(vm.VmId);
        Assert.Equal(0, (await Engine.RunClaimedAsync(default)).StatusChanges); // Healthy assessments held at their version

        // Another replica sees Secure Boot turned off and records it; the VM is fixed before this engine's next result.
        using PostureEngine other = OtherReplica();
        await SetSecureBootAsync(vm.VmId, enabled: false);
        int turnedOff = (await other.RunOnceAsync(fullSweep: false, default)).StatusChanges;
        await SetSecureBootAsync(vm.VmId, enabled: true);
        await _arm.AddResultAsync(vm.VmId);
        PostureRun run = await Engine.RunClaimedAsync(default);

        // Compared with what the store holds (Unhealthy), not with what this engine last read (Healthy): turned back.
        Assert.True(turnedOff >= 1);
        Assert.Equal(turnedOff, run.StatusChanges);
        Assert.Equal(AssessmentStatusCode.Healthy, await StatusAsync(vm.VmId, Recommendations.SecureBoot.Key));
        Assert.Equal([AssessmentStatusCode.Healthy, AssessmentStatusCode.Unhealthy, AssessmentStatusCode.Healthy],
            (await Store.HistoryAsync(vm.VmId, Recommendations.SecureBoot.Key, default)).Select(h => h.Status));
    }

    [Fact]
    public async Task AssessmentsWritten_CountUpTheVmsVersion_SteadyRunsDoNot()
    {
        string group = await _arm.CreateGroupAsync();
        VirtualMachineRecord vm = await _arm.AddRunningVmAsync(group, "vm1");
        await _arm.AddResultAsync(vm.VmId);
        await Engine.RunClaimedAsync(default);
        long first = (await Store.ObservedVmsAsync([vm.VmId], default))[vm.VmId].AssessmentsVersion;
        await _arm.AddResultAsync(vm.VmId);
        await Engine.RunClaimedAsync(default);
        long steady = (await Store.ObservedVmsAsync([vm.VmId], default))[vm.VmId].AssessmentsVersion;
        await SetSecureBootAsync(vm.VmId, enabled: false);
        await _arm.AddResultAsync(vm.VmId);
        await Engine.RunClaimedAsync(default);

        Assert.Equal(1, first);
        Assert.Equal(first, steady);
        Assert.Equal(2, (await Store.ObservedVmsAsync([vm.VmId], default))[vm.VmId].AssessmentsVersion);
    }

    [Fact]
    public async Task PlanChanged_BetweenTwoResults_NextResultsEvaluationSeesIt()
    {
        var security = _arm.Service.Service<SqlSecurityStore>();
        string group = await _arm.CreateGroupAsync();
        VirtualMachineRecord vm = await _arm.AddRunningVmAsync(group, "vm1");
        await _arm.AddResultAsync(vm.VmId, "BaselineDeviation");
        Assert.Equal(0, (await Engine.RunClaimedAsync(default)).AlertsCreated); // Free: assessments only; the plans are held

        await security.SetTierAsync(_arm.SubscriptionId, PricingTier.Standard, _arm.Service.Clock.GetUtcNow(), default);
        await _arm.AddResultAsync(vm.VmId, "BaselineDeviation");

        Assert.Equal(1, (await Engine.RunClaimedAsync(default)).AlertsCreated);
        Assert.Single(await Store.OpenAlertsAsync(vm.VmId, default));
    }

    [Fact]
    public async Task RuleAddedThenDeleted_BetweenResults_EachSeenByTheNextResultsEvaluation()
    {
        var security = _arm.Service.Service<SqlSecurityStore>();
        await security.SetTierAsync(_arm.SubscriptionId, PricingTier.Standard, _arm.Service.Clock.GetUtcNow(), default);
        string group = await _arm.CreateGroupAsync();
        VirtualMachineRecord vm = await _arm.AddRunningVmAsync(group, "vm1");
        await _arm.AddResultAsync(vm.VmId);
        await Engine.RunClaimedAsync(default); // plans and (no) rules held

        await security.SaveRuleAsync(new SuppressionRule
        {
            Name = "known-deviation", SubscriptionId = _arm.SubscriptionId, AlertType = "*", Reason = "Benign", State = SuppressionState.Enabled,
            LastModifiedUtc = _arm.Service.Clock.GetUtcNow(), AllOf = [],
        }, default);
        await _arm.AddResultAsync(vm.VmId, "BaselineDeviation");
        PostureRun suppressed = await Engine.RunClaimedAsync(default);
        Assert.True(await security.DeleteRuleAsync(_arm.SubscriptionId, "known-deviation", default));
        await _arm.AddResultAsync(vm.VmId, "BaselineDeviation");
        PostureRun created = await Engine.RunClaimedAsync(default);

        Assert.Equal((1, 0), (suppressed.AlertsSuppressed, suppressed.AlertsCreated));
        Assert.Equal((0, 1), (created.AlertsSuppressed, created.AlertsCreated));
    }

    [Fact]
    public async Task SettingsWrites_CountUpTheSettingsVersion()
    {
        var security = _arm.Service.Service<SqlSecurityStore>();
        long before = await security.SettingsVersionAsync(default);
        await security.SetTierAsync(_arm.SubscriptionId, PricingTier.Standard, _arm.Service.Clock.GetUtcNow(), default);
        long afterPlan = await security.SettingsVersionAsync(default);
        await security.SaveRuleAsync(new SuppressionRule
        {
            Name = "r", SubscriptionId = _arm.SubscriptionId, AlertType = "*", Reason = "Other", State = SuppressionState.Enabled,
            LastModifiedUtc = _arm.Service.Clock.GetUtcNow(), AllOf = [],
        }, default);
        long afterRule = await security.SettingsVersionAsync(default);
        await security.DeleteRuleAsync(_arm.SubscriptionId, "r", default);

        Assert.True(before < afterPlan && afterPlan < afterRule && afterRule < await security.SettingsVersionAsync(default));
    }

    private PostureEngine OtherReplica() =>
        new(_arm.Service.Service<IVirtualMachineStore>(), _arm.Service.Service<ISubscriptionStore>(), Store, _arm.Service.Service<SqlPostureWork>(),
            _arm.Service.Service<SqlSecurityStore>(), new ReplicaOptions { ReplicaId = "other" }, new PostureSignals(),
            new PostureOptions { RunBackgroundWork = false }, _arm.Service.Clock, NullLogger<PostureEngine>.Instance);

    private Task SetSecureBootAsync(Guid vmId, bool enabled) =>
        StoredVmEdits.SetSecureBootAsync(_arm.Service.Service<IVirtualMachineStore>(), vmId, enabled);

    private async Task<AssessmentStatusCode> StatusAsync(Guid vmId, string key) =>
        (await Store.ListAssessmentsAsync(null, null, vmId, default)).Single(a => a.Key == key).Status;
}
