using TrustedLaunch.Posture.Inputs;

namespace TrustedLaunch.Posture.Tests.Inputs;

/// <summary>"Installed" means the agent answered since the last boot: the one rule the agent assessment and the overdue detection share.</summary>
public sealed class PostureVmTests
{
    private static readonly DateTimeOffset Boot = PostureVms.Booted;

    [Fact]
    public void AgentAnsweredSinceBoot_AnswerAtTheBootsInstant_Counts() =>
        Assert.True((PostureVms.TrustedLaunch() with { LastAgentAnswerAt = Boot }).AgentAnsweredSinceBoot);

    [Fact]
    public void AgentAnsweredSinceBoot_AnswerOneTickBeforeTheBoot_DoesNotCount() =>
        Assert.False((PostureVms.TrustedLaunch() with { LastAgentAnswerAt = Boot.AddTicks(-1) }).AgentAnsweredSinceBoot);

    [Fact]
    public void AgentAnsweredSinceBoot_AnswerAfterTheBoot_Counts() =>
        Assert.True((PostureVms.TrustedLaunch() with { LastAgentAnswerAt = Boot.AddTicks(1) }).AgentAnsweredSinceBoot);

    [Fact]
    public void AgentAnsweredSinceBoot_NeverAnswered_False() =>
        Assert.False(PostureVms.TrustedLaunch().AgentAnsweredSinceBoot);

    [Fact]
    public void AgentAnsweredSinceBoot_BootUnknown_AnyAnswerCounts() =>
        Assert.True((PostureVms.TrustedLaunch() with { RunningSince = null, LastAgentAnswerAt = Boot.AddDays(-30) }).AgentAnsweredSinceBoot);

    [Fact]
    public void AgentAnsweredSinceBoot_SameInstantInAnotherOffset_Counts() =>
        Assert.True((PostureVms.TrustedLaunch() with { LastAgentAnswerAt = Boot.ToOffset(TimeSpan.FromHours(2)) }).AgentAnsweredSinceBoot);
}
