using TrustedLaunch.Posture.Assessments;

namespace TrustedLaunch.Posture.Alerts;

/// <summary>The platform's alert types (stable: subscriptions, suppression rules and receivers key on them).</summary>
public static class AlertTypes
{
    /// <summary>"Attestation failed your virtual machine" (Defender's wording), Medium.</summary>
    public const string AttestationFailed = "TL_VM_AttestationFailed";

    /// <summary>"Untrusted Linux kernel module", Low: a module failed signature verification and was not loaded.</summary>
    public const string UntrustedKernelModule = "TL_VM_UntrustedKernelModule";

    public static IReadOnlyList<string> All { get; } = [AttestationFailed, UntrustedKernelModule];

    public static Severity SeverityOf(string alertType) => alertType == AttestationFailed ? Severity.Medium : Severity.Low;
}

/// <summary>
/// The reasons of <see cref="AlertTypes.AttestationFailed"/>: Defender's three, and the failures that are none of them
/// reported as what they are (a log that does not replay is not a deviation).
/// </summary>
public static class AlertReasons
{
    /// <summary>The attested boot deviates from the trusted baseline (or the reference policy).</summary>
    public const string BaselineDeviation = "BaselineDeviation";

    /// <summary>The quote cannot be verified to come from this VM's vTPM (AK certificate, identity, signature, nonce, clock).</summary>
    public const string QuoteNotFromVm = "QuoteNotFromVm";

    /// <summary>The attestation agent is unresponsive (the host's report, or no answer for three intervals).</summary>
    public const string AgentUnresponsive = "AgentUnresponsive";

    /// <summary>The event log does not replay to the quoted PCRs: the boot cannot be appraised at all.</summary>
    public const string EventLogDoesNotReplay = "EventLogDoesNotReplay";

    /// <summary>The agent's evidence is malformed.</summary>
    public const string EvidenceMalformed = "EvidenceMalformed";

    /// <summary>A kernel module was refused for its signature (<see cref="AlertTypes.UntrustedKernelModule"/>).</summary>
    public const string ModuleRejected = "ModuleRejected";

    public static IReadOnlyList<string> All { get; } =
        [BaselineDeviation, QuoteNotFromVm, AgentUnresponsive, EventLogDoesNotReplay, EvidenceMalformed, ModuleRejected];
}
