using Microsoft.Extensions.DependencyInjection;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Posture.Suppression;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Posture.Stores;

namespace TrustedLaunch.Server.Tests.Posture;

/// <summary>
/// The engine evaluates the same inputs any number of times and writes and announces each change once: across the
/// phases of one run (results, changed VMs, sweep), across runs (what a run holds in memory equals what the next reads
/// back), and across engines racing over one database. Store-backed (SQLite), background work off, runs started by hand.
/// </summary>
public sealed class PostureIdempotenceTests : IAsyncLifetime
{
    private static readonly string[] Keys =
        [Recommendations.SecureBoot.Key, Recommendations.VTpm.Key, Recommendations.GuestAttestationAgent.Key, Recommendations.AttestationHealth.Key];

    /// <summary>Assessments a VM gets: the four Trusted Launch recommendations and the two Secure Boot rollover ones.</summary>
    internal static readonly int Assessments = Recommendations.All.Count + SecureBootRolloverRecommendations.All.Count;

    private readonly PostureTestService _arm = new(caDirectory: null, backgroundWork: false);

    public Task InitializeAsync() => _arm.InitializeAsync();

    public Task DisposeAsync() => _arm.DisposeAsync();

    private PostureEngine Engine => _arm.Service.Service<PostureEngine>();

    private SqlPostureStore Store => _arm.Service.Service<SqlPostureStore>();

    [Fact]
    public async Task AgentAnsweredAtTheInstantTheBootWasSeen_Healthy_NextRunWritesNothing()
    {
        // The case that flapped: the clock between two milliseconds, a VM seen running (no host report: the boot is "now")
        // and its agent's answer at that same instant. The answer is stored to the millisecond; the boot must be too.
        DateTimeOffset now = _arm.Service.Clock.GetUtcNow();
        _arm.Service.Clock.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerMillisecond - 1 - now.UtcTicks % TimeSpan.TicksPerMillisecond));
        string group = await _arm.CreateGroupAsync();
        VirtualMachineRecord vm = await _arm.AddRunningVmAsync(group, "vm1");
        await _arm.AddResultAsync(vm.VmId);

        PostureRun first = await Engine.RunOnceAsync(fullSweep: true, default);
        PostureRun second = await Engine.RunOnceAsync(fullSweep: true, default);

        StoredAssessment agent = await AssessmentAsync(vm.VmId, Recommendations.GuestAttestationAgent.Key);
        Assert.Equal(AssessmentStatusCode.Healthy, agent.Status);
        Assert.StartsWith("The guest attestation agent has answered since the VM booted at", agent.Description, StringComparison.Ordinal);
        Assert.Equal(new PostureRun(1, 3, 0, 0, Assessments, 0), first); // evaluated by each phase, recorded by the first; nothing Unhealthy to announce
        Assert.Equal(new PostureRun(0, 1, 0, 0, 0, 0), second);
        await AssertEachRecordedOnceAsync(vm.VmId);
    }

    [Fact]
    public async Task AnswerAtTheInstantOfTheHostsReport_BootSeenAtItsMillisecond_HealthyAndSteady()
    {
        DateTimeOffset now = _arm.Service.Clock.GetUtcNow();
        _arm.Service.Clock.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerMillisecond - 1 - now.UtcTicks % TimeSpan.TicksPerMillisecond));
        DateTimeOffset reported = _arm.Service.Clock.GetUtcNow();
        string group = await _arm.CreateGroupAsync();
        VirtualMachineRecord vm = await _arm.AddRunningVmAsync(group, "vm1", reportedAt: reported);
        await _arm.AddResultAsync(vm.VmId);
        _arm.Service.Clock.Advance(TimeSpan.FromSeconds(1));

        await Engine.RunOnceAsync(fullSweep: true, default);
        PostureRun steady = await Engine.RunOnceAsync(fullSweep: true, default);

        Assert.Equal(AssessmentStatusCode.Healthy, (await AssessmentAsync(vm.VmId, Recommendations.GuestAttestationAgent.Key)).Status);
        Assert.Equal(new PostureRun(0, 1, 0, 0, 0, 0), steady);
        Assert.Equal(PostureEngine.StoredInstant(reported), (await Store.BootStatesAsync(default))[vm.VmId].RunningSince);
        await AssertEachRecordedOnceAsync(vm.VmId);
    }

    [Fact]
    public async Task AnswerBeforeTheBootWasSeen_UnhealthyOnce_NextAnswerTurnsItHealthyOnce()
    {
        string group = await _arm.CreateGroupAsync();
        VirtualMachineRecord vm = await _arm.AddRunningVmAsync(group, "vm1");
        await _arm.AddResultAsync(vm.VmId);
        _arm.Service.Clock.Advance(TimeSpan.FromSeconds(5));

        PostureRun unhealthy = await Engine.RunOnceAsync(fullSweep: true, default); // the boot is seen now, after the answer
        PostureRun again = await Engine.RunOnceAsync(fullSweep: true, default);
        _arm.Service.Clock.Advance(TimeSpan.FromSeconds(5));
        await _arm.AddResultAsync(vm.VmId);
        PostureRun healthy = await Engine.RunOnceAsync(fullSweep: true, default);
        PostureRun steady = await Engine.RunOnceAsync(fullSweep: true, default);

        Assert.Equal((Assessments, 1), (unhealthy.StatusChanges, unhealthy.Events));
        Assert.Equal((0, 0), (again.StatusChanges, again.Events));
        Assert.Equal((1, 1), (healthy.StatusChanges, healthy.Events));
        Assert.Equal((0, 0), (steady.StatusChanges, steady.Events));
        IReadOnlyList<AssessmentHistoryEntry> history = await Store.HistoryAsync(vm.VmId, Recommendations.GuestAttestationAgent.Key, default);
        Assert.Equal([AssessmentStatusCode.Unhealthy, AssessmentStatusCode.Healthy], history.Select(h => h.Status));
    }

    [Fact]
    public async Task TwoEnginesAtOnce_EachStatusRecordedOnce_EachResultFoldedOnce()
    {
        await _arm.Service.Service<SqlSecurityStore>().SetTierAsync(_arm.SubscriptionId, PricingTier.Standard, _arm.Service.Clock.GetUtcNow(), default);
        string group = await _arm.CreateGroupAsync();
        var vms = new List<VirtualMachineRecord>();
        for (int i = 0; i < 30; i++)
        {
            VirtualMachineRecord vm = await _arm.AddRunningVmAsync(group, $"vm{i}");
            await _arm.AddResultAsync(vm.VmId, failure: "BaselineDeviation");
            vms.Add(vm);
        }

        // Another replica's engine over the same database, and the same engine twice: all at once.
        using PostureEngine replica = ActivatorUtilities.CreateInstance<PostureEngine>(_arm.Service.App.Services);
        PostureRun[] runs = await Task.WhenAll(Engine.RunOnceAsync(true, default), replica.RunOnceAsync(true, default), Engine.RunOnceAsync(true, default));
        foreach (VirtualMachineRecord vm in vms)
            await _arm.AddResultAsync(vm.VmId, failure: "BaselineDeviation");
        PostureRun[] repeats = await Task.WhenAll(Engine.RunOnceAsync(true, default), replica.RunOnceAsync(true, default));

        Assert.Equal(30, runs.Sum(r => r.Results));
        Assert.Equal(30, runs.Sum(r => r.AlertsCreated));
        // The repeats were folded where they were stored (docs/posture.md): no engine had any left to fold.
        Assert.Equal(0, repeats.Sum(r => r.Results));
        Assert.Equal(0, repeats.Sum(r => r.AlertsCreated));
        foreach (VirtualMachineRecord vm in vms)
        {
            SecurityAlert alert = Assert.Single(await Store.OpenAlertsAsync(vm.VmId, default));
            Assert.Equal(2, alert.Count);
            await AssertEachRecordedOnceAsync(vm.VmId);
        }

        // Announced once each: 30 alerts, and 30 first evaluations of the health assessment that found the failure.
        IReadOnlyList<SecurityEventRecord> events = await _arm.Service.Service<SqlSecurityStore>().EventsAfterAsync(null, 0, 1000, default);
        Assert.Equal(30, events.Count(e => e.Type == SecurityEvents.AlertCreated));
        Assert.Equal(30, events.Count(e => e.Type == SecurityEvents.AssessmentStatusChanged));
    }

    [Fact]
    public async Task SuppressedOverdueAgent_RaisedOncePerSilence()
    {
        var security = _arm.Service.Service<SqlSecurityStore>();
        await security.SetTierAsync(_arm.SubscriptionId, PricingTier.Standard, _arm.Service.Clock.GetUtcNow(), default);
        await security.SaveRuleAsync(new SuppressionRule
        {
            Name = "agents-known-silent", SubscriptionId = _arm.SubscriptionId, AlertType = AlertTypes.AttestationFailed, Reason = "Benign",
            State = SuppressionState.Enabled, LastModifiedUtc = _arm.Service.Clock.GetUtcNow(),
            AllOf = [new SuppressionCondition("extendedProperties.reason", SuppressionFields.In, [AlertReasons.AgentUnresponsive])],
        }, default);
        string group = await _arm.CreateGroupAsync();
        VirtualMachineRecord vm = await _arm.AddRunningVmAsync(group, "vm1");
        await Engine.RunOnceAsync(fullSweep: true, default); // the boot is seen

        _arm.Service.Clock.Advance(TimeSpan.FromSeconds(181)); // three intervals of 60 s
        PostureRun overdue = await Engine.RunOnceAsync(fullSweep: true, default);
        _arm.Service.Clock.Advance(TimeSpan.FromMinutes(10));
        PostureRun stillSilent = await Engine.RunOnceAsync(fullSweep: true, default);
        PostureRun steady = await Engine.RunOnceAsync(fullSweep: true, default);

        Assert.Equal(1, overdue.AlertsSuppressed);
        Assert.Equal(0, stillSilent.AlertsSuppressed + stillSilent.AlertsCreated);
        Assert.Equal(new PostureRun(0, 1, 0, 0, 0, 0), steady);
        SecurityAlert dismissed = Assert.Single(await Store.ListAlertsAsync(_arm.SubscriptionId, null, default));
        Assert.Equal((AlertStatus.Dismissed, "agents-known-silent"), (dismissed.Status, dismissed.SuppressedBy));

        // The agent answers, then falls silent again: a new silence, a new alert.
        await _arm.AddResultAsync(vm.VmId);
        await Engine.RunOnceAsync(fullSweep: true, default);
        _arm.Service.Clock.Advance(TimeSpan.FromSeconds(181));
        Assert.Equal(1, (await Engine.RunOnceAsync(fullSweep: true, default)).AlertsSuppressed);
        Assert.Equal(2, (await Store.ListAlertsAsync(_arm.SubscriptionId, null, default)).Count);
    }

    private async Task<StoredAssessment> AssessmentAsync(Guid vmId, string key) =>
        Assert.Single(await Store.ListAssessmentsAsync(null, null, vmId, default), a => a.Key == key);

    private async Task AssertEachRecordedOnceAsync(Guid vmId)
    {
        foreach (string key in Keys)
            Assert.Single(await Store.HistoryAsync(vmId, key, default));
    }
}
