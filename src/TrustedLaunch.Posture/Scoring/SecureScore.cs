using TrustedLaunch.Posture.Assessments;

namespace TrustedLaunch.Posture.Scoring;

/// <summary>A secure score: <c>current</c> of <c>max</c> points and the percentage (0-1), over how many assessments.</summary>
public sealed record SecureScoreValue(double Current, double Max, double Percentage, int Healthy, int Unhealthy, int NotApplicable);

/// <summary>
/// Healthy ÷ applicable, weighted by severity: each applicable assessment is worth its recommendation's weight
/// (Low 1, Medium 2, High 3, Informational 0), earned when Healthy. NotApplicable assessments count for nothing. With
/// nothing applicable the score is 0 of 0 and the percentage 1 (nothing to fix).
/// </summary>
public static class SecureScore
{
    public static int Weight(Severity severity) => severity switch
    {
        Severity.High => 3,
        Severity.Medium => 2,
        Severity.Low => 1,
        _ => 0,
    };

    public static SecureScoreValue Compute(IEnumerable<(Severity Severity, AssessmentStatusCode Code)> assessments)
    {
        ArgumentNullException.ThrowIfNull(assessments);
        double current = 0, max = 0;
        int healthy = 0, unhealthy = 0, notApplicable = 0;
        foreach ((Severity severity, AssessmentStatusCode code) in assessments)
        {
            switch (code)
            {
                case AssessmentStatusCode.Healthy:
                    healthy++;
                    current += Weight(severity);
                    max += Weight(severity);
                    break;
                case AssessmentStatusCode.Unhealthy:
                    unhealthy++;
                    max += Weight(severity);
                    break;
                default:
                    notApplicable++;
                    break;
            }
        }

        return new SecureScoreValue(current, max, max == 0 ? 1 : Math.Round(current / max, 4), healthy, unhealthy, notApplicable);
    }
}
