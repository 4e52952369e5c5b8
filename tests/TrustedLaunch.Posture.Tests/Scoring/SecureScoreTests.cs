using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Posture.Scoring;

namespace TrustedLaunch.Posture.Tests.Scoring;

/// <summary>Healthy ÷ applicable, weighted by severity (Low 1, Medium 2, High 3, Informational 0); NotApplicable counts for nothing.</summary>
public sealed class SecureScoreTests
{
    [Theory]
    [InlineData(Severity.Informational, 0)]
    [InlineData(Severity.Low, 1)]
    [InlineData(Severity.Medium, 2)]
    [InlineData(Severity.High, 3)]
    public void Weight_BySeverity(Severity severity, int weight) => Assert.Equal(weight, SecureScore.Weight(severity));

    [Fact]
    public void Compute_WeightsHealthyOverApplicable()
    {
        // One VM: Secure Boot off (Low, Unhealthy), vTPM on (Low), agent answered (Low), attestation failed (Medium, Unhealthy); one Gen1 VM.
        SecureScoreValue score = SecureScore.Compute(
        [
            (Severity.Low, AssessmentStatusCode.Unhealthy), (Severity.Low, AssessmentStatusCode.Healthy), (Severity.Low, AssessmentStatusCode.Healthy),
            (Severity.Medium, AssessmentStatusCode.Unhealthy), (Severity.Low, AssessmentStatusCode.NotApplicable), (Severity.Medium, AssessmentStatusCode.NotApplicable),
        ]);

        Assert.Equal(new SecureScoreValue(2, 5, 0.4, 2, 2, 2), score);
    }

    [Fact]
    public void Compute_MediumHealthyOutweighsLowUnhealthy() =>
        Assert.Equal(0.6667, SecureScore.Compute([(Severity.Medium, AssessmentStatusCode.Healthy), (Severity.Low, AssessmentStatusCode.Unhealthy)]).Percentage);

    [Fact]
    public void Compute_NothingApplicable_FullScoreOfNothing() =>
        Assert.Equal(new SecureScoreValue(0, 0, 1, 0, 0, 1), SecureScore.Compute([(Severity.Low, AssessmentStatusCode.NotApplicable)]));

    [Fact]
    public void Compute_Empty_FullScoreOfNothing() => Assert.Equal(new SecureScoreValue(0, 0, 1, 0, 0, 0), SecureScore.Compute([]));
}
