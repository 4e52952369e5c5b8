using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Posture.Stores;
using Xunit.Abstractions;

namespace TrustedLaunch.Server.Tests.Posture;

/// <summary>
/// A full sweep over many store-backed VMs (SQLite, one attestation result each), background work off and the engine
/// run twice by hand: the first writes every VM's four assessments once, a steady one evaluates them all and changes
/// nothing. Its speed at 10,000 VMs is a benchmark (bench/TrustedLaunch.Benchmarks/Posture/PostureSweepBenchmarks.cs,
/// docs/benchmarks.md), not a timed test.
/// </summary>
public sealed class PostureSweepTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Vms = 200;
    private readonly PostureTestService _arm = new(caDirectory: null, backgroundWork: false);

    public Task InitializeAsync() => _arm.InitializeAsync();

    public Task DisposeAsync() => _arm.DisposeAsync();

    [Fact]
    public async Task FullSweep_ManyVms_FirstWritesEveryAssessmentSteadyChangesNothing()
    {
        string group = await _arm.CreateGroupAsync();
        for (int i = 0; i < Vms; i++)
            await _arm.AddResultAsync((await _arm.AddRunningVmAsync(group, $"vm{i:D5}")).VmId);

        PostureEngine engine = _arm.Service.Service<PostureEngine>();
        PostureRun first = await engine.RunOnceAsync(fullSweep: true, default);
        PostureRun steady = await engine.RunOnceAsync(fullSweep: true, default);
        output.WriteLine($"first: {first}; steady: {steady}");

        Assert.Equal(Vms, first.Results);
        Assert.True(first.StatusChanges >= Vms, $"the first sweep set {first.StatusChanges} statuses for {Vms} VMs");
        Assert.Equal(Vms, steady.VmsEvaluated);
        Assert.Equal((0, 0), (steady.Results, steady.StatusChanges));
        Assert.Equal(0, steady.Events);
        // Each assessment was recorded once, by whichever phase of the first run evaluated it first.
        SqlPostureStore store = _arm.Service.Service<SqlPostureStore>();
        IReadOnlyList<StoredAssessment> assessments = await store.ListAssessmentsAsync(null, null, null, default);
        Assert.Equal(PostureIdempotenceTests.Assessments * Vms, assessments.Count);
        foreach (StoredAssessment assessment in assessments.Where((_, i) => i % 37 == 0))
            Assert.Single(await store.HistoryAsync(assessment.VmId, assessment.Key, default));
    }
}
