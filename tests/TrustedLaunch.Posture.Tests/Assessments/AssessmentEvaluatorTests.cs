using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Posture.Inputs;
using Causes = TrustedLaunch.Posture.Assessments.AssessmentEvaluator.Causes;

namespace TrustedLaunch.Posture.Tests.Assessments;

/// <summary>The four recommendations with Azure's applicability, the agent's "since boot" and freshness (three intervals).</summary>
public sealed class AssessmentEvaluatorTests
{
    private static readonly DateTimeOffset Boot = PostureVms.Booted;
    private static readonly DateTimeOffset Now = Boot.AddMinutes(10);

    // A VM whose agent answered and whose latest attestation passed a minute ago: everything Healthy.
    private static PostureVm Attested() =>
        PostureVms.TrustedLaunch() with { LastAgentAnswerAt = Now.AddMinutes(-1), LatestAttestation = PostureVms.Pass(Now.AddMinutes(-1)) };

    private static AssessmentOutcome Outcome(PostureVm vm, Recommendation recommendation, DateTimeOffset? now = null) =>
        Assert.Single(AssessmentEvaluator.Evaluate(vm, now ?? Now), o => o.Recommendation == recommendation);

    [Fact]
    public void Evaluate_AttestedTrustedLaunchVm_FourHealthyInTheApisOrder()
    {
        IReadOnlyList<AssessmentOutcome> outcomes = AssessmentEvaluator.Evaluate(Attested(), Now);

        Assert.Equal(Recommendations.All, outcomes.Select(o => o.Recommendation));
        Assert.All(outcomes, o => Assert.Equal((AssessmentStatusCode.Healthy, (string?)null), (o.Code, o.Cause)));
    }

    [Fact]
    public void Evaluate_SameInputs_SameOutcomes() =>
        Assert.Equal(AssessmentEvaluator.Evaluate(Attested(), Now), AssessmentEvaluator.Evaluate(Attested(), Now));

    [Fact]
    public void Evaluate_AVmThatKeepsAttesting_SameOutcomesAtEveryPass()
    {
        // What makes a steady fleet cost posture no write: a later answer and pass change neither status nor description.
        PostureVm later = Attested() with { LastAgentAnswerAt = Now.AddSeconds(-5), LatestAttestation = PostureVms.Pass(Now.AddSeconds(-5), id: 2) };

        Assert.Equal(AssessmentEvaluator.Evaluate(Attested(), Now), AssessmentEvaluator.Evaluate(later, Now.AddSeconds(55)));
        Assert.Contains("since the VM booted at 2026-03-01T12:00:00Z", Outcome(later, Recommendations.GuestAttestationAgent).Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_Gen1Vm_AllNotApplicableWithTheCause()
    {
        PostureVm gen1 = Attested() with { Generation = VmGeneration.V1, TrustedLaunch = false, SecureBootEnabled = false, VTpmEnabled = false };

        IReadOnlyList<AssessmentOutcome> outcomes = AssessmentEvaluator.Evaluate(gen1, Now);

        Assert.All(outcomes, o => Assert.Equal((AssessmentStatusCode.NotApplicable, Causes.Gen1VirtualMachine), (o.Code, o.Cause)));
        Assert.Contains("Generation 1", outcomes[0].Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_UnsupportedSize_NotApplicableNamingTheSize()
    {
        PostureVm vm = Attested() with { VmSize = "Standard_A1_v2", SizeSupportsTrustedLaunch = false };

        AssessmentOutcome secureBoot = Outcome(vm, Recommendations.SecureBoot);

        Assert.Equal((AssessmentStatusCode.NotApplicable, Causes.VmSizeNotSupported), (secureBoot.Code, secureBoot.Cause));
        Assert.Contains("'Standard_A1_v2'", secureBoot.Description, StringComparison.Ordinal);
        Assert.All(AssessmentEvaluator.Evaluate(vm, Now), o => Assert.Equal(Causes.VmSizeNotSupported, o.Cause));
    }

    [Fact]
    public void Evaluate_SizeUnknownToTheCatalog_StillApplicable() =>
        Assert.Equal(AssessmentStatusCode.Healthy, Outcome(Attested() with { SizeSupportsTrustedLaunch = null }, Recommendations.SecureBoot).Code);

    [Fact]
    public void Evaluate_Gen1WinsOverUnsupportedSize() =>
        Assert.Equal(Causes.Gen1VirtualMachine,
            Outcome(Attested() with { Generation = VmGeneration.V1, SizeSupportsTrustedLaunch = false }, Recommendations.VTpm).Cause);

    [Fact]
    public void Evaluate_StandardSecurityType_NotApplicableNotTrustedLaunch() =>
        Assert.All(AssessmentEvaluator.Evaluate(Attested() with { TrustedLaunch = false }, Now),
            o => Assert.Equal((AssessmentStatusCode.NotApplicable, Causes.NotTrustedLaunch), (o.Code, o.Cause)));

    [Fact]
    public void Evaluate_SecureBootOff_SecureBootUnhealthy_AttestationRecommendationsNotApplicable()
    {
        PostureVm vm = Attested() with { SecureBootEnabled = false };

        AssessmentOutcome secureBoot = Outcome(vm, Recommendations.SecureBoot);

        Assert.Equal((AssessmentStatusCode.Unhealthy, Causes.SecureBootDisabled), (secureBoot.Code, secureBoot.Cause));
        Assert.Equal(AssessmentStatusCode.Healthy, Outcome(vm, Recommendations.VTpm).Code);
        foreach (Recommendation r in new[] { Recommendations.GuestAttestationAgent, Recommendations.AttestationHealth })
            Assert.Equal((AssessmentStatusCode.NotApplicable, Causes.SecureBootOrVTpmDisabled), (Outcome(vm, r).Code, Outcome(vm, r).Cause));
    }

    [Fact]
    public void Evaluate_VTpmOff_VTpmUnhealthy()
    {
        AssessmentOutcome vtpm = Outcome(Attested() with { VTpmEnabled = false }, Recommendations.VTpm);

        Assert.Equal((AssessmentStatusCode.Unhealthy, Causes.VTpmDisabled), (vtpm.Code, vtpm.Cause));
    }

    [Fact]
    public void Evaluate_NotRunning_AttestationRecommendationsNotApplicable_ProfileChecksStillEvaluated()
    {
        PostureVm stopped = Attested() with { Running = false, RunningSince = null };

        Assert.Equal(Causes.VmNotRunning, Outcome(stopped, Recommendations.GuestAttestationAgent).Cause);
        Assert.Equal(Causes.VmNotRunning, Outcome(stopped, Recommendations.AttestationHealth).Cause);
        Assert.Equal(AssessmentStatusCode.Healthy, Outcome(stopped, Recommendations.SecureBoot).Code);
    }

    [Fact]
    public void Agent_AnsweredAtTheBootsInstant_Healthy() =>
        Assert.Equal(AssessmentStatusCode.Healthy, Outcome(Attested() with { LastAgentAnswerAt = Boot }, Recommendations.GuestAttestationAgent).Code);

    [Fact]
    public void Agent_AnsweredOnlyBeforeThisBoot_UnhealthySayingWhen()
    {
        AssessmentOutcome agent = Outcome(Attested() with { LastAgentAnswerAt = Boot.AddMilliseconds(-1) }, Recommendations.GuestAttestationAgent);

        Assert.Equal((AssessmentStatusCode.Unhealthy, Causes.AgentNotAnswering), (agent.Code, agent.Cause));
        Assert.Contains("since the VM booted at 2026-03-01T12:00:00Z", agent.Description, StringComparison.Ordinal);
        Assert.Contains("before this boot", agent.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Agent_NeverAnswered_Unhealthy()
    {
        AssessmentOutcome agent = Outcome(Attested() with { LastAgentAnswerAt = null }, Recommendations.GuestAttestationAgent);

        Assert.Equal(Causes.AgentNotAnswering, agent.Cause);
        Assert.DoesNotContain("before this boot", agent.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Agent_BootUnknownButAnswered_Healthy() =>
        Assert.Equal(AssessmentStatusCode.Healthy,
            Outcome(Attested() with { RunningSince = null, LastAgentAnswerAt = Boot.AddDays(-1) }, Recommendations.GuestAttestationAgent).Code);

    [Fact]
    public void Health_NeverAttested_Unhealthy() =>
        Assert.Equal(Causes.NeverAttested, Outcome(Attested() with { LatestAttestation = null }, Recommendations.AttestationHealth).Cause);

    [Fact]
    public void Health_LatestFailed_UnhealthyWithTheVerifiersReason()
    {
        AssessmentOutcome health = Outcome(Attested() with { LatestAttestation = PostureVms.Failure("BaselineDeviation", Now) }, Recommendations.AttestationHealth);

        Assert.Equal((AssessmentStatusCode.Unhealthy, Causes.AttestationFailed), (health.Code, health.Cause));
        Assert.EndsWith("failed: BaselineDeviation: test component: test message", health.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Health_ExactlyThreeIntervalsOld_StillFresh() =>
        Assert.Equal(AssessmentStatusCode.Healthy,
            Outcome(Attested() with { LatestAttestation = PostureVms.Pass(Now.AddSeconds(-180)) }, Recommendations.AttestationHealth).Code);

    [Fact]
    public void Health_OneTickOlderThanThreeIntervals_Stale()
    {
        AssessmentOutcome health = Outcome(Attested() with { LatestAttestation = PostureVms.Pass(Now.AddSeconds(-180).AddTicks(-1)) }, Recommendations.AttestationHealth);

        Assert.Equal((AssessmentStatusCode.Unhealthy, Causes.AttestationStale), (health.Code, health.Cause));
        Assert.Contains("more than 3 intervals (180 s)", health.Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(30, 90)]
    [InlineData(600, 1800)]
    [InlineData(0, 3)] // an interval below a second counts as one
    public void Health_FreshnessIsThreeOfTheVmsIntervals(int intervalSeconds, int freshSeconds)
    {
        PostureVm vm = Attested() with { AttestationIntervalSeconds = intervalSeconds };

        Assert.Equal(AssessmentStatusCode.Healthy,
            Outcome(vm with { LatestAttestation = PostureVms.Pass(Now.AddSeconds(-freshSeconds)) }, Recommendations.AttestationHealth).Code);
        Assert.Equal(Causes.AttestationStale,
            Outcome(vm with { LatestAttestation = PostureVms.Pass(Now.AddSeconds(-freshSeconds - 1)) }, Recommendations.AttestationHealth).Cause);
    }

    [Fact]
    public void Recommendations_AzuresKeysAndSeverities()
    {
        Assert.Equal(("69ad830b-d98c-b1cf-2158-9d69d38c7093", Severity.Low), (Recommendations.SecureBoot.Key, Recommendations.SecureBoot.Severity));
        Assert.Equal(Severity.Low, Recommendations.VTpm.Severity);
        Assert.Equal(Severity.Low, Recommendations.GuestAttestationAgent.Severity);
        Assert.Equal(Severity.Medium, Recommendations.AttestationHealth.Severity);
        Assert.Same(Recommendations.VTpm, Recommendations.Find(Recommendations.VTpm.Key.ToUpperInvariant()));
        Assert.Null(Recommendations.Find("00000000-0000-0000-0000-000000000000"));
        Assert.Equal([Recommendations.SecureBoot], Recommendations.All.Where(r => r.Remediable));
    }
}
