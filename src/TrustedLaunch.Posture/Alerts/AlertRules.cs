using System.Globalization;
using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Posture.Inputs;

namespace TrustedLaunch.Posture.Alerts;

/// <summary>
/// The detections: an attestation result → <see cref="AlertTypes.AttestationFailed"/> with its reason, a refused module
/// among the guest findings → <see cref="AlertTypes.UntrustedKernelModule"/>, and an agent silent for three intervals →
/// <see cref="AlertReasons.AgentUnresponsive"/>. The verifier's typed reason decides; nothing is read from free text.
/// </summary>
public static class AlertRules
{
    private const string AttestationFailedName = "Attestation failed your virtual machine";

    /// <summary>Maps a verifier failure reason (its name as stored) to the alert reason; null when it raises no alert (a pass, a rejected nonce).</summary>
    public static string? ReasonFor(string? verifierReason) =>
        Enum.TryParse(verifierReason, ignoreCase: false, out AttestationFailureReason reason) && Enum.IsDefined(reason)
            ? reason switch
            {
                AttestationFailureReason.BaselineDeviation or AttestationFailureReason.PolicyDeviation => AlertReasons.BaselineDeviation,
                AttestationFailureReason.AkNotFromThisVm or AttestationFailureReason.QuoteInvalid => AlertReasons.QuoteNotFromVm,
                AttestationFailureReason.AgentUnresponsive => AlertReasons.AgentUnresponsive,
                AttestationFailureReason.EventLogDoesNotReplay => AlertReasons.EventLogDoesNotReplay,
                AttestationFailureReason.EvidenceMalformed => AlertReasons.EvidenceMalformed,
                _ => null,
            }
            : null;

    /// <summary>What one attestation result raises for <paramref name="vm"/>.</summary>
    public static IReadOnlyList<AlertCandidate> Detect(PostureVm vm, AttestationObservation result)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(result);
        var candidates = new List<AlertCandidate>();
        if (!result.Passed && ReasonFor(result.Reason) is string reason)
            candidates.Add(AttestationFailed(vm, result, reason));
        foreach (FindingObservation finding in result.Findings.Where(f => f.Kind == GuestFinding.Kinds.ModuleRejected)
            .GroupBy(f => f.Module ?? ModuleFromMessage(f.Message) ?? "unknown").Select(g => g.First()))
            candidates.Add(UntrustedModule(vm, result, finding));
        return candidates;
    }

    /// <summary>
    /// The agent has not answered for <see cref="AssessmentEvaluator.FreshnessIntervals"/> intervals while the VM runs
    /// (no host report said so: the host itself may be silent). Null while it is not overdue.
    /// </summary>
    public static AlertCandidate? Overdue(PostureVm vm, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(vm);
        if (!vm.Running || !vm.TrustedLaunch || !vm.VTpmEnabled || !vm.SecureBootEnabled || vm.RunningSince is not DateTimeOffset since)
            return null;
        DateTimeOffset last = vm.LastAgentAnswerAt is DateTimeOffset answered && answered > since ? answered : since;
        TimeSpan deadline = TimeSpan.FromSeconds((double)AssessmentEvaluator.FreshnessIntervals * Math.Max(1, vm.AttestationIntervalSeconds));
        if (now - last <= deadline)
            return null;
        string message = string.Create(CultureInfo.InvariantCulture,
            $"No evidence from the guest attestation agent since {Time(last)} ({(now - last).TotalSeconds:0} s; the deadline is {deadline.TotalSeconds:0} s).");
        var observation = new AttestationObservation
        {
            ResultId = 0, At = now, Passed = false, Reason = nameof(AttestationFailureReason.AgentUnresponsive), Component = "guest agent: overdue",
            Message = message,
        };
        return AttestationFailed(vm, observation, AlertReasons.AgentUnresponsive);
    }

    /// <summary>The de-duplication key: one open alert per VM, type and reason (and module name for modules).</summary>
    public static string DedupKey(Guid vmId, string alertType, string reason, string? module = null) =>
        module is null ? $"{vmId:D}|{alertType}|{reason}" : $"{vmId:D}|{alertType}|{reason}|{module}";

    private static AlertCandidate AttestationFailed(PostureVm vm, AttestationObservation result, string reason)
    {
        var properties = Common(vm, reason);
        properties["verifierReason"] = result.Reason ?? "";
        properties["component"] = result.Component ?? "";
        properties["message"] = result.Message ?? "";
        properties["attestationResultId"] = result.ResultId.ToString(CultureInfo.InvariantCulture);
        if (result.Policy is not null)
            properties["policy"] = result.Policy;
        AlertEvidence evidence;
        if (result.Deviations.Count > 0)
        {
            // The first deviation (early boot first, PCR 7 first) is the explained component; all are in the evidence.
            DeviationObservation first = result.Deviations[0];
            properties["stage"] = first.Stage;
            properties["pcr"] = first.Pcr.ToString(CultureInfo.InvariantCulture);
            properties["bank"] = first.Bank;
            properties["expectedValue"] = first.Expected;
            properties["actualValue"] = first.Actual;
            properties["explanation"] = first.Description;
            properties["deviatingPcrs"] = string.Join(",", result.Deviations.Select(d => d.Pcr.ToString(CultureInfo.InvariantCulture)));
            evidence = new AlertEvidence("Deviations from the trusted baseline", ["Stage", "PCR", "Bank", "Expected", "Actual", "Explanation"],
                result.Deviations.Select(d => (IReadOnlyList<string>)[d.Stage, d.Pcr.ToString(CultureInfo.InvariantCulture), d.Bank, d.Expected, d.Actual,
                    d.Description]).ToArray());
        }
        else if (result.PolicyViolations.Count > 0)
        {
            properties["explanation"] = result.PolicyViolations[0];
            evidence = new AlertEvidence("Reference policy violations", ["Violation"], result.PolicyViolations.Select(v => (IReadOnlyList<string>)[v]).ToArray());
        }
        else
        {
            evidence = new AlertEvidence("Attestation result", ["Reason", "Component", "Message"],
                [[result.Reason ?? "", result.Component ?? "", result.Message ?? ""]]);
        }

        (string description, string[] steps) = reason switch
        {
            AlertReasons.BaselineDeviation => (
                $"The attested boot of '{vm.Name}' deviates from its trusted baseline ({result.Component}): {result.Message} "
                + "If you must disable Secure Boot, you can suppress this alert to avoid false positives.",
                new[]
                {
                    "Compare the deviation (extendedProperties: stage, pcr, expected and actual values, explanation) with the changes you made to the VM.",
                    "If the change was intended (a kernel or boot loader update), relearn the baseline: POST /v1/vms/{vmId}/baseline:relearn.",
                    "If it was not, treat the VM as compromised: deallocate it and investigate its disk and VM guest state.",
                }),
            AlertReasons.QuoteNotFromVm => (
                $"The attestation quote of '{vm.Name}' cannot be verified to come from this VM's vTPM ({result.Component}): {result.Message}",
                new[]
                {
                    "Check whether the evidence was relayed for the right VM and whether the VM's vTPM state was replaced or rolled back.",
                    "Treat evidence signed by a foreign attestation key as an attack on the attestation path.",
                }),
            AlertReasons.AgentUnresponsive => (
                $"The attestation agent on '{vm.Name}' isn't responding: {result.Message}",
                new[]
                {
                    "Check that the VM runs and that tl-guest-agent runs inside it (its image must carry it).",
                    "A guest that stops its agent hides its boot state from the platform: investigate if this was not planned.",
                }),
            AlertReasons.EventLogDoesNotReplay => (
                $"The boot event log of '{vm.Name}' does not replay to the PCR values its vTPM quoted ({result.Component}), so the boot cannot be appraised: {result.Message}",
                new[] { "An edited or truncated event log is a sign of tampering with the evidence; investigate the VM.", }),
            _ => (
                $"The attestation evidence of '{vm.Name}' is malformed ({result.Component}): {result.Message}",
                new[] { "Check the guest attestation agent's version and the host relay." }),
        };
        return new AlertCandidate
        {
            AlertType = AlertTypes.AttestationFailed,
            Reason = reason,
            DedupKey = DedupKey(vm.VmId, AlertTypes.AttestationFailed, reason),
            DisplayName = AttestationFailedName,
            Description = description,
            Severity = Severity.Medium,
            Intent = reason == AlertReasons.AgentUnresponsive ? "Unknown" : "DefenseEvasion",
            ExtendedProperties = properties,
            RemediationSteps = steps,
            SupportingEvidence = evidence,
            At = result.At,
            ResultId = result.ResultId,
        };
    }

    private static AlertCandidate UntrustedModule(PostureVm vm, AttestationObservation result, FindingObservation finding)
    {
        string module = finding.Module ?? ModuleFromMessage(finding.Message) ?? "unknown";
        string signer = Signer(finding.Message);
        var properties = Common(vm, AlertReasons.ModuleRejected);
        properties["module"] = module;
        properties["signer"] = signer;
        properties["kernelMessage"] = finding.Message;
        properties["seenAt"] = Time(finding.At);
        properties["attestationResultId"] = result.ResultId.ToString(CultureInfo.InvariantCulture);
        return new AlertCandidate
        {
            AlertType = AlertTypes.UntrustedKernelModule,
            Reason = AlertReasons.ModuleRejected,
            DedupKey = DedupKey(vm.VmId, AlertTypes.UntrustedKernelModule, AlertReasons.ModuleRejected, module),
            DisplayName = "Untrusted Linux kernel module",
            Description = $"The kernel of '{vm.Name}' refused to load the module '{module}' ({signer}): it failed signature verification under Secure Boot. "
                + "The VM still booted; the module did not run.",
            Severity = Severity.Low,
            Intent = "Persistence",
            ExtendedProperties = properties,
            RemediationSteps =
            [
                $"Find out what tried to load '{module}' (a package, a DKMS build, an attacker's rootkit).",
                "Sign modules you need with a key enrolled in the VM's MOK or db, or remove them.",
            ],
            SupportingEvidence = new AlertEvidence("Kernel log", ["Time", "Kind", "Module", "Kernel message"],
                result.Findings.Where(f => f.Kind == GuestFinding.Kinds.ModuleRejected)
                    .Select(f => (IReadOnlyList<string>)[Time(f.At), f.Kind, f.Module ?? ModuleFromMessage(f.Message) ?? "", f.Message]).ToArray()),
            At = result.At,
            ResultId = result.ResultId,
        };
    }

    private static Dictionary<string, string> Common(PostureVm vm, string reason) => new(StringComparer.Ordinal)
    {
        ["reason"] = reason,
        ["vmId"] = vm.VmId.ToString("D"),
        ["resourceGroup"] = vm.ResourceGroup,
        ["resourceType"] = "Virtual Machine",
    };

    // The kernel's words: "Loading of unsigned module is rejected", "module verification failed: signature and/or required key missing".
    private static string Signer(string message) =>
        message.Contains("unsigned", StringComparison.OrdinalIgnoreCase) || message.Contains("required key missing", StringComparison.OrdinalIgnoreCase)
            ? "unsigned"
            : "signer not trusted";

    // "…: module foo: …" or "foo: module verification failed"; null when the line names none.
    private static string? ModuleFromMessage(string message)
    {
        int colon = message.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && message.AsSpan(0, colon).IndexOfAny(' ', '[') < 0)
            return message[..colon];
        return null;
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
