using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Posture.Inputs;

namespace TrustedLaunch.Posture.Tests.Alerts;

/// <summary>The detections: the verifier's typed reason decides the alert's reason; modules; the overdue agent, once per silence.</summary>
public sealed class AlertRulesTests
{
    private static readonly DateTimeOffset Boot = PostureVms.Booted;
    private static readonly PostureVm Vm = PostureVms.TrustedLaunch();

    [Theory]
    [InlineData(nameof(AttestationFailureReason.BaselineDeviation), AlertReasons.BaselineDeviation)]
    [InlineData(nameof(AttestationFailureReason.PolicyDeviation), AlertReasons.BaselineDeviation)]
    [InlineData(nameof(AttestationFailureReason.AkNotFromThisVm), AlertReasons.QuoteNotFromVm)]
    [InlineData(nameof(AttestationFailureReason.QuoteInvalid), AlertReasons.QuoteNotFromVm)]
    [InlineData(nameof(AttestationFailureReason.AgentUnresponsive), AlertReasons.AgentUnresponsive)]
    [InlineData(nameof(AttestationFailureReason.EventLogDoesNotReplay), AlertReasons.EventLogDoesNotReplay)]
    [InlineData(nameof(AttestationFailureReason.EvidenceMalformed), AlertReasons.EvidenceMalformed)]
    public void ReasonFor_VerifierReason_AlertReason(string verifierReason, string alertReason) =>
        Assert.Equal(alertReason, AlertRules.ReasonFor(verifierReason));

    [Fact]
    public void ReasonFor_EveryVerifierReasonRaisesAnAlert() =>
        Assert.All(Enum.GetNames<AttestationFailureReason>(), name => Assert.NotNull(AlertRules.ReasonFor(name)));

    [Theory]
    [InlineData(null)]
    [InlineData("NonceRejected")] // the verifier refused a stale nonce: the agent asks again, nothing to alert
    [InlineData("baselinedeviation")] // stored names are exact
    [InlineData("SomethingNew")]
    public void ReasonFor_NoVerifierFailure_Null(string? verifierReason) => Assert.Null(AlertRules.ReasonFor(verifierReason));

    [Fact]
    public void Detect_Pass_Nothing() => Assert.Empty(AlertRules.Detect(Vm, PostureVms.Pass(Boot)));

    [Fact]
    public void Detect_ReplayFailure_ReportedAsReplayFailureNotAsDeviation()
    {
        AlertCandidate alert = Assert.Single(AlertRules.Detect(Vm, PostureVms.Failure(nameof(AttestationFailureReason.EventLogDoesNotReplay), Boot)));

        Assert.Equal((AlertTypes.AttestationFailed, AlertReasons.EventLogDoesNotReplay, Severity.Medium), (alert.AlertType, alert.Reason, alert.Severity));
        Assert.Equal(AlertReasons.EventLogDoesNotReplay, alert.ExtendedProperties["reason"]);
        Assert.Contains("does not replay", alert.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("deviates", alert.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("pcr", alert.ExtendedProperties.Keys);
        Assert.Equal($"{Vm.VmId:D}|{AlertTypes.AttestationFailed}|{AlertReasons.EventLogDoesNotReplay}", alert.DedupKey);
    }

    [Fact]
    public void Detect_BaselineDeviation_NamesStagePcrBankValuesAndExplanation_AllDeviationsInTheEvidence()
    {
        AttestationObservation result = PostureVms.Failure(nameof(AttestationFailureReason.BaselineDeviation), Boot, id: 7) with
        {
            Deviations =
            [
                new DeviationObservation("firmware", 7, "sha256", "aa", "bb", "Secure Boot was disabled: PK, KEK, db removed"),
                new DeviationObservation("os", 9, "sha256", "cc", "dd", "the kernel changed"),
            ],
        };

        AlertCandidate alert = Assert.Single(AlertRules.Detect(Vm, result));

        Assert.Equal(AlertReasons.BaselineDeviation, alert.Reason);
        Assert.Equal(("firmware", "7", "sha256", "aa", "bb"), (alert.ExtendedProperties["stage"], alert.ExtendedProperties["pcr"],
            alert.ExtendedProperties["bank"], alert.ExtendedProperties["expectedValue"], alert.ExtendedProperties["actualValue"]));
        Assert.Equal("Secure Boot was disabled: PK, KEK, db removed", alert.ExtendedProperties["explanation"]);
        Assert.Equal("7,9", alert.ExtendedProperties["deviatingPcrs"]);
        Assert.Equal("7", alert.ExtendedProperties["attestationResultId"]);
        Assert.Equal(2, alert.SupportingEvidence.Rows.Count);
        Assert.Equal(7, alert.ResultId);
    }

    [Fact]
    public void Detect_QuoteFromAnotherVm_QuoteNotFromVm()
    {
        AlertCandidate alert = Assert.Single(AlertRules.Detect(Vm, PostureVms.Failure(nameof(AttestationFailureReason.AkNotFromThisVm), Boot)));

        Assert.Equal(AlertReasons.QuoteNotFromVm, alert.Reason);
        Assert.Contains("cannot be verified to come from this VM's vTPM", alert.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Detect_RefusedModules_OneLowAlertPerModule_SignerFromTheKernelsWords()
    {
        AttestationObservation result = PostureVms.Pass(Boot) with
        {
            Findings =
            [
                new FindingObservation(GuestFinding.Kinds.ModuleRejected, "ttyprintk", "Loading of unsigned module is rejected", Boot),
                new FindingObservation(GuestFinding.Kinds.ModuleRejected, "ttyprintk", "Loading of unsigned module is rejected", Boot.AddSeconds(1)),
                new FindingObservation(GuestFinding.Kinds.ModuleRejected, null, "evil: module verification failed: signature and/or required key missing", Boot),
                new FindingObservation(GuestFinding.Kinds.ModuleRejected, "other", "PKCS#7 signature not signed with a trusted key", Boot),
                new FindingObservation(GuestFinding.Kinds.ModuleUnsignedLoaded, "tainted", "module verification failed", Boot),
            ],
        };

        IReadOnlyList<AlertCandidate> alerts = AlertRules.Detect(Vm, result);

        Assert.Equal(["ttyprintk", "evil", "other"], alerts.Select(a => a.ExtendedProperties["module"]));
        Assert.All(alerts, a => Assert.Equal((AlertTypes.UntrustedKernelModule, Severity.Low, AlertReasons.ModuleRejected), (a.AlertType, a.Severity, a.Reason)));
        Assert.Equal(["unsigned", "unsigned", "signer not trusted"], alerts.Select(a => a.ExtendedProperties["signer"]));
        Assert.Equal("Loading of unsigned module is rejected", alerts[0].ExtendedProperties["kernelMessage"]);
        Assert.Equal(alerts.Count, alerts.Select(a => a.DedupKey).Distinct().Count());
        Assert.EndsWith("|ttyprintk", alerts[0].DedupKey, StringComparison.Ordinal);
        Assert.Equal(4, alerts[0].SupportingEvidence.Rows.Count); // the refused-module lines of the kernel log
    }

    [Fact]
    public void Detect_FailureWithRefusedModule_BothAlerts() =>
        Assert.Equal([AlertTypes.AttestationFailed, AlertTypes.UntrustedKernelModule], AlertRules.Detect(Vm,
            PostureVms.Failure(nameof(AttestationFailureReason.BaselineDeviation), Boot) with
            {
                Findings = [new FindingObservation(GuestFinding.Kinds.ModuleRejected, "m", "Loading of unsigned module is rejected", Boot)],
            }).Select(a => a.AlertType));

    [Fact]
    public void Overdue_AtTheDeadline_NotYet_OneTickLater_AgentUnresponsive()
    {
        Assert.Null(AlertRules.Overdue(Vm, Boot.AddSeconds(180)));

        AlertCandidate overdue = AlertRules.Overdue(Vm, Boot.AddSeconds(180).AddTicks(1))!;

        Assert.Equal((AlertTypes.AttestationFailed, AlertReasons.AgentUnresponsive, 0L), (overdue.AlertType, overdue.Reason, overdue.ResultId));
        Assert.Equal("2026-03-01T12:00:00.0000000Z", overdue.ExtendedProperties[AlertRules.SilentSinceProperty]);
        Assert.Contains("isn't responding", overdue.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Overdue_AnsweredSinceBoot_CountsFromTheAnswer()
    {
        PostureVm vm = Vm with { LastAgentAnswerAt = Boot.AddMinutes(5) };

        Assert.Null(AlertRules.Overdue(vm, Boot.AddMinutes(8)));
        Assert.Equal("2026-03-01T12:05:00.0000000Z", AlertRules.Overdue(vm, Boot.AddMinutes(8).AddTicks(1))!.ExtendedProperties[AlertRules.SilentSinceProperty]);
    }

    [Fact]
    public void Overdue_AnswerAtTheBootsInstant_SilenceSinceThatAnswer()
    {
        AlertCandidate overdue = AlertRules.Overdue(Vm with { LastAgentAnswerAt = Boot }, Boot.AddMinutes(4))!;

        Assert.Equal("2026-03-01T12:00:00.0000000Z", overdue.ExtendedProperties[AlertRules.SilentSinceProperty]);
    }

    [Fact]
    public void Overdue_AnswerBeforeThisBoot_CountsFromTheBoot() =>
        Assert.Null(AlertRules.Overdue(Vm with { LastAgentAnswerAt = Boot.AddHours(-1) }, Boot.AddSeconds(179)));

    [Theory]
    [InlineData("stopped")]
    [InlineData("secure boot off")]
    [InlineData("vtpm off")]
    [InlineData("standard")]
    [InlineData("boot unknown")]
    public void Overdue_NotAnAttestedRunningVm_Never(string variant)
    {
        PostureVm vm = variant switch
        {
            "stopped" => Vm with { Running = false },
            "secure boot off" => Vm with { SecureBootEnabled = false },
            "vtpm off" => Vm with { VTpmEnabled = false },
            "standard" => Vm with { TrustedLaunch = false },
            _ => Vm with { RunningSince = null },
        };

        Assert.Null(AlertRules.Overdue(vm, Boot.AddDays(1)));
    }

    [Fact]
    public void RaisedForSameSilence_SameSilenceTrue_NewSilenceFalse()
    {
        AlertCandidate first = AlertRules.Overdue(Vm, Boot.AddMinutes(4))!;
        SecurityAlert raised = AlertLedger.Fold(first, null, Subject, [], Boot.AddMinutes(4), Guid.NewGuid()).Alert!;
        AlertCandidate later = AlertRules.Overdue(Vm, Boot.AddHours(1))!;
        AlertCandidate afterAnAnswer = AlertRules.Overdue(Vm with { LastAgentAnswerAt = Boot.AddMinutes(30) }, Boot.AddHours(1))!;

        Assert.True(AlertRules.RaisedForSameSilence(later, raised));
        Assert.False(AlertRules.RaisedForSameSilence(afterAnAnswer, raised));
        Assert.False(AlertRules.RaisedForSameSilence(later, null));
        Assert.False(AlertRules.RaisedForSameSilence(later, raised with { DedupKey = "other" }));
    }

    [Fact]
    public void DedupKey_VmTypeReason_AndModule()
    {
        Guid id = Vm.VmId;
        Assert.Equal($"{id:D}|T|R", AlertRules.DedupKey(id, "T", "R"));
        Assert.Equal($"{id:D}|T|R|m", AlertRules.DedupKey(id, "T", "R", "m"));
    }

    private static PostureSubject Subject => PostureSubject.Of(Vm);
}
