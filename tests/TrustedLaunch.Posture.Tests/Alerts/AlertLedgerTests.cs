using TrustedLaunch.Attestation;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Suppression;
using TrustedLaunch.Posture.Tests.Suppression;

namespace TrustedLaunch.Posture.Tests.Alerts;

/// <summary>One open alert per VM, type and reason: repeats count, suppression dismisses, a later pass is written into the alert.</summary>
public sealed class AlertLedgerTests
{
    private static readonly DateTimeOffset Now = PostureVms.Booted.AddHours(1);
    private static readonly PostureSubject Subject = PostureSubject.Of(PostureVms.TrustedLaunch());

    private static AlertCandidate Deviation(long resultId, DateTimeOffset at) =>
        Assert.Single(AlertRules.Detect(PostureVms.TrustedLaunch(), PostureVms.Failure(nameof(AttestationFailureReason.BaselineDeviation), at, resultId)));

    private static SecurityAlert Created() => AlertLedger.Fold(Deviation(1, Now), null, Subject, [], Now, Guid.NewGuid()).Alert!;

    [Fact]
    public void Fold_NoOpenAlert_CreatedActiveOnce()
    {
        (SecurityAlert? alert, AlertChange change) = AlertLedger.Fold(Deviation(1, Now), null, Subject, [], Now, Guid.NewGuid());

        Assert.Equal(AlertChange.Created, change);
        Assert.Equal((AlertStatus.Active, 1, Now, Now, 1L), (alert!.Status, alert.Count, alert.StartTimeUtc, alert.EndTimeUtc, alert.LastResultId));
        Assert.Equal(("vm1", Subject.ResourceId, "westus"), (alert.CompromisedEntity, alert.ResourceId, alert.Location));
        Assert.Equal(alert.Name, alert.SystemAlertId);
        Assert.Null(alert.SuppressedBy);
    }

    [Fact]
    public void Fold_Repeat_CountsAndMovesTheEndNeverDuplicates()
    {
        SecurityAlert open = Created();

        (SecurityAlert? repeated, AlertChange change) = AlertLedger.Fold(Deviation(2, Now.AddMinutes(1)), open, Subject, [], Now.AddMinutes(1), Guid.NewGuid());

        Assert.Equal(AlertChange.Repeated, change);
        Assert.Equal((open.Name, 2, Now, Now.AddMinutes(1), 2L), (repeated!.Name, repeated.Count, repeated.StartTimeUtc, repeated.EndTimeUtc, repeated.LastResultId));
        Assert.Equal("2", repeated.ExtendedProperties["occurrences"]);
    }

    [Fact]
    public void Fold_ResultAlreadyFolded_None()
    {
        SecurityAlert open = Created();

        Assert.Equal((open, AlertChange.None), AlertLedger.Fold(Deviation(1, Now), open, Subject, [], Now, Guid.NewGuid()));
    }

    [Fact]
    public void Fold_MatchingRule_StoredDismissedNamingTheRule()
    {
        SuppressionRule rule = SuppressionRuleTests.Rule() with { AllOf = [new SuppressionCondition("extendedProperties.reason", SuppressionFields.In, [AlertReasons.BaselineDeviation])] };

        (SecurityAlert? alert, AlertChange change) = AlertLedger.Fold(Deviation(1, Now), null, Subject, [rule], Now, Guid.NewGuid());

        Assert.Equal(AlertChange.Suppressed, change);
        Assert.Equal((AlertStatus.Dismissed, rule.Name), (alert!.Status, alert.SuppressedBy));
    }

    [Fact]
    public void Fold_ExpiredRule_Created()
    {
        SuppressionRule expired = SuppressionRuleTests.Rule() with { ExpirationDateUtc = Now };

        Assert.Equal(AlertChange.Created, AlertLedger.Fold(Deviation(1, Now), null, Subject, [expired], Now, Guid.NewGuid()).Change);
    }

    [Fact]
    public void AddPass_AlertStaysActiveAndSaysItPassedSince()
    {
        SecurityAlert open = Created();

        (SecurityAlert once, AlertChange change) = AlertLedger.AddPass(open, 2, Now.AddMinutes(1));
        (SecurityAlert twice, _) = AlertLedger.AddPass(once, 3, Now.AddMinutes(2));

        Assert.Equal(AlertChange.PassRecorded, change);
        Assert.Equal(AlertStatus.Active, twice.Status);
        Assert.Equal(("2", "2026-03-01T13:01:00Z", "2026-03-01T13:02:00Z", "3"), (twice.ExtendedProperties["passesSinceAlert"],
            twice.ExtendedProperties["firstPassAt"], twice.ExtendedProperties["lastPassAt"], twice.ExtendedProperties["lastPassResultId"]));
        Assert.Equal(AlertChange.None, AlertLedger.AddPass(twice, 3, Now.AddMinutes(3)).Change);
    }

    [Fact]
    public void Fold_RepeatAfterAPass_KeepsThePasses()
    {
        SecurityAlert passed = AlertLedger.AddPass(Created(), 2, Now.AddMinutes(1)).Alert;

        SecurityAlert repeated = AlertLedger.Fold(Deviation(3, Now.AddMinutes(2)), passed, Subject, [], Now.AddMinutes(2), Guid.NewGuid()).Alert!;

        Assert.Equal("1", repeated.ExtendedProperties["passesSinceAlert"]);
    }

    [Fact]
    public void WithStatus_ChangesStatusAndItsTime_SameStatusUnchanged()
    {
        SecurityAlert open = Created();

        SecurityAlert resolved = AlertLedger.WithStatus(open, AlertStatus.Resolved, Now.AddHours(1));

        Assert.Equal((AlertStatus.Resolved, Now.AddHours(1), false), (resolved.Status, resolved.StatusChangedAt, resolved.IsOpen));
        Assert.Same(open, AlertLedger.WithStatus(open, AlertStatus.Active, Now.AddHours(1)));
    }

    [Fact]
    public void NewName_NewerSortsFirst() =>
        Assert.True(string.CompareOrdinal(AlertLedger.NewName(Now.AddTicks(1), Guid.Empty), AlertLedger.NewName(Now, Guid.Empty)) < 0);
}
