namespace TrustedLaunch.Posture.Inputs;

/// <summary>A VM's generation: V2 boots UEFI from a GPT disk (Trusted Launch capable), V1 boots BIOS.</summary>
public enum VmGeneration
{
    V1,
    V2,
}

/// <summary>
/// What posture knows about one VM: its resource identity, its security profile and catalog facts (the control plane),
/// whether it runs and since when (its host's reports), and its attestations (the attestation store).
/// </summary>
public sealed record PostureVm
{
    public required string ResourceId { get; init; }

    public required string SubscriptionId { get; init; }

    public required string ResourceGroup { get; init; }

    public required string Name { get; init; }

    public required Guid VmId { get; init; }

    public required string Location { get; init; }

    /// <summary><c>securityProfile.securityType</c> is TrustedLaunch.</summary>
    public required bool TrustedLaunch { get; init; }

    public required bool SecureBootEnabled { get; init; }

    public required bool VTpmEnabled { get; init; }

    public required VmGeneration Generation { get; init; }

    public required string VmSize { get; init; }

    /// <summary>The size supports Trusted Launch (Azure's <c>TrustedLaunchDisabled</c> capability absent); null when the size is unknown.</summary>
    public bool? SizeSupportsTrustedLaunch { get; init; }

    /// <summary>Its host reports it running.</summary>
    public required bool Running { get; init; }

    /// <summary>When posture first saw the current boot (null: unknown, e.g. not running).</summary>
    public DateTimeOffset? RunningSince { get; init; }

    /// <summary><c>trustedLaunchExtensions.attestationIntervalSeconds</c> (60 by default).</summary>
    public int AttestationIntervalSeconds { get; init; } = 60;

    /// <summary>The newest attestation result of any kind (a pass, a verifier failure, or the host's agent-unresponsive report).</summary>
    public AttestationObservation? LatestAttestation { get; init; }

    /// <summary>When the guest agent last answered with evidence (any verdict), null when it never has.</summary>
    public DateTimeOffset? LastAgentAnswerAt { get; init; }
}

/// <summary>One stored attestation result as posture reads it.</summary>
public sealed record AttestationObservation
{
    /// <summary>The attestation store's id of the result (increasing).</summary>
    public required long ResultId { get; init; }

    public required DateTimeOffset At { get; init; }

    public required bool Passed { get; init; }

    /// <summary>The failure reason's name: an <c>AttestationFailureReason</c>, or <c>NonceRejected</c>.</summary>
    public string? Reason { get; init; }

    public string? Component { get; init; }

    public string? Message { get; init; }

    /// <summary>The baseline deviations of a <c>BaselineDeviation</c> failure, PCR 7 first.</summary>
    public IReadOnlyList<DeviationObservation> Deviations { get; init; } = [];

    /// <summary>The reference-policy violations, as the verifier words them.</summary>
    public IReadOnlyList<string> PolicyViolations { get; init; } = [];

    /// <summary>What the guest agent reported with the evidence (refused modules, taint, lockdown).</summary>
    public IReadOnlyList<FindingObservation> Findings { get; init; } = [];

    /// <summary>The policy the VM was held to (<c>minimum</c> or a stored name).</summary>
    public string? Policy { get; init; }
}

/// <summary>One PCR that differs from the learned baseline, with the verifier's explanation.</summary>
public sealed record DeviationObservation(string Stage, int Pcr, string Bank, string Expected, string Actual, string Description);

/// <summary>One guest finding: its kind (<c>module-rejected</c>, …), the module, the kernel's words and when it was seen.</summary>
public sealed record FindingObservation(string Kind, string? Module, string Message, DateTimeOffset At);
