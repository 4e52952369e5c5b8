using System.Globalization;
using TrustedLaunch.Posture.Inputs;

namespace TrustedLaunch.Posture.Assessments;

/// <summary>One recommendation's verdict for one VM: <c>status.code</c>, <c>cause</c> and <c>description</c>.</summary>
public sealed record AssessmentOutcome(Recommendation Recommendation, AssessmentStatusCode Code, string? Cause, string Description);

/// <summary>
/// Evaluates the Trusted Launch recommendations for a VM with Azure's applicability. Pure: the same VM and time give
/// the same outcomes, so the host may evaluate as often as it likes and store only what changed.
/// </summary>
public static class AssessmentEvaluator
{
    /// <summary>An attestation is fresh while it is not older than this many attestation intervals.</summary>
    public const int FreshnessIntervals = 3;

    /// <summary>Causes of NotApplicable and Unhealthy statuses (stable strings, documented in docs/posture.md).</summary>
    public static class Causes
    {
        public const string Gen1VirtualMachine = "Gen1VirtualMachine";
        public const string VmSizeNotSupported = "VmSizeNotSupported";
        public const string NotTrustedLaunch = "NotTrustedLaunch";
        public const string SecureBootOrVTpmDisabled = "SecureBootOrVTpmDisabled";
        public const string VmNotRunning = "VmNotRunning";
        public const string SecureBootDisabled = "SecureBootDisabled";
        public const string VTpmDisabled = "VTpmDisabled";
        public const string AgentNotAnswering = "AgentNotAnswering";
        public const string NeverAttested = "NeverAttested";
        public const string AttestationFailed = "AttestationFailed";
        public const string AttestationStale = "AttestationStale";
    }

    public static IReadOnlyList<AssessmentOutcome> Evaluate(PostureVm vm, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return [SecureBoot(vm), VTpm(vm), Agent(vm), Health(vm, now)];
    }

    private static AssessmentOutcome SecureBoot(PostureVm vm)
    {
        Recommendation r = Recommendations.SecureBoot;
        if (NotSupported(vm, r) is AssessmentOutcome na)
            return na;
        return vm.SecureBootEnabled
            ? new(r, AssessmentStatusCode.Healthy, null, "Secure Boot is enabled (securityProfile.uefiSettings.secureBootEnabled).")
            : new(r, AssessmentStatusCode.Unhealthy, Causes.SecureBootDisabled,
                "Secure Boot is disabled on this Trusted Launch VM: the firmware starts any boot loader. Remediation: deallocate, enable, start.");
    }

    private static AssessmentOutcome VTpm(PostureVm vm)
    {
        Recommendation r = Recommendations.VTpm;
        if (NotSupported(vm, r) is AssessmentOutcome na)
            return na;
        return vm.VTpmEnabled
            ? new(r, AssessmentStatusCode.Healthy, null, "The vTPM is enabled (securityProfile.uefiSettings.vTpmEnabled).")
            : new(r, AssessmentStatusCode.Unhealthy, Causes.VTpmDisabled, "The vTPM is disabled: the boot is not measured and cannot be attested.");
    }

    private static AssessmentOutcome Agent(PostureVm vm)
    {
        Recommendation r = Recommendations.GuestAttestationAgent;
        if (NotAttestable(vm, r) is AssessmentOutcome na)
            return na;
        // A Healthy description names nothing that moves with every answer (the boot, not the answer's time): a VM that
        // keeps attesting keeps its stored assessment as it is, and posture writes nothing for it (docs/benchmarks.md).
        if (vm.AgentAnsweredSinceBoot)
        {
            return new(r, AssessmentStatusCode.Healthy, null, vm.RunningSince is DateTimeOffset since
                ? $"The guest attestation agent has answered since the VM booted at {Time(since)}."
                : "The guest attestation agent has answered.");
        }

        string sinceBoot = vm.RunningSince is DateTimeOffset booted ? $" since the VM booted at {Time(booted)}" : "";
        string last = vm.LastAgentAnswerAt is DateTimeOffset before ? $" (last answer {Time(before)}, before this boot)" : "";
        return new(r, AssessmentStatusCode.Unhealthy, Causes.AgentNotAnswering,
            $"The guest attestation agent has not answered{sinceBoot}{last}: it is not installed, not running, or cannot reach the vTPM.");
    }

    private static AssessmentOutcome Health(PostureVm vm, DateTimeOffset now)
    {
        Recommendation r = Recommendations.AttestationHealth;
        if (NotAttestable(vm, r) is AssessmentOutcome na)
            return na;
        if (vm.LatestAttestation is not AttestationObservation latest)
            return new(r, AssessmentStatusCode.Unhealthy, Causes.NeverAttested, "The VM has not been attested yet.");
        if (!latest.Passed)
        {
            string detail = string.Join(": ", new[] { latest.Reason, latest.Component, latest.Message }.Where(s => !string.IsNullOrEmpty(s)));
            // No time in the description (the status change date has it): a VM that keeps failing the same way rewrites nothing.
            return new(r, AssessmentStatusCode.Unhealthy, Causes.AttestationFailed, $"The latest attestation failed: {detail}");
        }

        TimeSpan maximumAge = TimeSpan.FromSeconds((double)FreshnessIntervals * Math.Max(1, vm.AttestationIntervalSeconds));
        if (now - latest.At > maximumAge)
        {
            return new(r, AssessmentStatusCode.Unhealthy, Causes.AttestationStale, string.Create(CultureInfo.InvariantCulture,
                $"The latest attestation passed at {Time(latest.At)}, more than {FreshnessIntervals} intervals ({maximumAge.TotalSeconds:0} s) ago."));
        }

        return new(r, AssessmentStatusCode.Healthy, null, string.Create(CultureInfo.InvariantCulture,
            $"The latest attestation passed and is fresh (not older than {FreshnessIntervals} intervals, {maximumAge.TotalSeconds:0} s)."));
    }

    // Azure's applicability of the Secure Boot and vTPM checks: VMs that support Trusted Launch and are Trusted Launch VMs.
    private static AssessmentOutcome? NotSupported(PostureVm vm, Recommendation r)
    {
        if (vm.Generation == VmGeneration.V1)
            return new(r, AssessmentStatusCode.NotApplicable, Causes.Gen1VirtualMachine,
                "Generation 1 (BIOS) VMs do not support Trusted Launch: the image has no EFI System Partition for UEFI firmware to boot.");
        if (vm.SizeSupportsTrustedLaunch == false)
            return new(r, AssessmentStatusCode.NotApplicable, Causes.VmSizeNotSupported, $"The VM size '{vm.VmSize}' does not support Trusted Launch.");
        if (!vm.TrustedLaunch)
            return new(r, AssessmentStatusCode.NotApplicable, Causes.NotTrustedLaunch, "The VM is not a Trusted Launch VM (securityType Standard).");
        return null;
    }

    // The guest attestation recommendations need Secure Boot and vTPM (Azure installs the extension only then) and a running VM.
    private static AssessmentOutcome? NotAttestable(PostureVm vm, Recommendation r)
    {
        if (NotSupported(vm, r) is AssessmentOutcome na)
            return na;
        if (!vm.SecureBootEnabled || !vm.VTpmEnabled)
            return new(r, AssessmentStatusCode.NotApplicable, Causes.SecureBootOrVTpmDisabled,
                "Guest attestation needs Secure Boot and vTPM enabled on the VM.");
        if (!vm.Running)
            return new(r, AssessmentStatusCode.NotApplicable, Causes.VmNotRunning, "The VM is not running, so it cannot be attested.");
        return null;
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
