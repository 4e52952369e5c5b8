namespace TrustedLaunch.Posture.Assessments;

/// <summary>Defender's severities (<c>Informational|Low|Medium|High</c>), for recommendations and alerts alike.</summary>
public enum Severity
{
    Informational,
    Low,
    Medium,
    High,
}

/// <summary>An assessment's <c>status.code</c>.</summary>
public enum AssessmentStatusCode
{
    Healthy,
    Unhealthy,
    NotApplicable,
}

/// <summary>
/// One recommendation as Defender's assessment metadata carries it: the assessment key (a GUID, Azure's where the check
/// is Azure's), <c>displayName</c>, <c>severity</c>, <c>description</c>, <c>remediationDescription</c>,
/// <c>categories</c>, <c>userImpact</c>, <c>implementationEffort</c>, <c>threats</c> and Azure's policy definition.
/// </summary>
public sealed record Recommendation
{
    public required string Key { get; init; }

    public required string DisplayName { get; init; }

    public required Severity Severity { get; init; }

    public required string Description { get; init; }

    public required string RemediationDescription { get; init; }

    public IReadOnlyList<string> Categories { get; init; } = ["Compute"];

    public required string UserImpact { get; init; }

    public required string ImplementationEffort { get; init; }

    public required IReadOnlyList<string> Threats { get; init; }

    /// <summary>The Azure Policy definition behind Azure's recommendation (informative).</summary>
    public required string PolicyDefinitionId { get; init; }

    /// <summary>How the platform evaluates it (docs/posture.md's table).</summary>
    public required string Applicability { get; init; }

    /// <summary>Whether the platform can remediate it (<c>POST …/assessments/{key}/remediate</c>).</summary>
    public bool Remediable { get; init; }
}

/// <summary>The four Trusted Launch recommendations, with Azure's assessment keys and severities (Defender's compute recommendations reference).</summary>
public static class Recommendations
{
    /// <summary>"Secure Boot should be enabled on supported Windows virtual machines": the same uefiSettings check, for every OS.</summary>
    public static Recommendation SecureBoot { get; } = new()
    {
        Key = "69ad830b-d98c-b1cf-2158-9d69d38c7093",
        DisplayName = "Secure Boot should be enabled on supported virtual machines",
        Severity = Severity.Low,
        Description = "Enable Secure Boot on supported Trusted Launch virtual machines to protect against malicious and unauthorized changes to the boot chain. "
            + "Once enabled, only trusted bootloaders, kernel and kernel drivers will be allowed to run.",
        RemediationDescription = "Deallocate the VM, set properties.securityProfile.uefiSettings.secureBootEnabled to true, and start it, after "
            + "checking that its boot loader passes Secure Boot (tl secureboot verify; the image's secureBootCheck). "
            + "The platform does it for you: POST …/assessments/69ad830b-d98c-b1cf-2158-9d69d38c7093/remediate.",
        UserImpact = "High",
        ImplementationEffort = "Low",
        Threats = ["MaliciousInsider", "ElevationOfPrivilege", "DataExfiltration"],
        PolicyDefinitionId = "/providers/Microsoft.Authorization/policyDefinitions/97566dd7-78ae-4997-8b36-1c7bfe0d8121",
        Applicability = "Trusted Launch VMs (Gen2 image, a size that supports Trusted Launch); a Gen1 VM, an unsupported size or a Standard VM is NotApplicable with the cause.",
        Remediable = true,
    };

    public static Recommendation VTpm { get; } = new()
    {
        Key = "861bbc73-0a55-8d1d-efc6-e92d9e1176e0",
        DisplayName = "vTPM should be enabled on supported virtual machines",
        Severity = Severity.Low,
        Description = "Enable virtual TPM device on supported virtual machines to facilitate Measured Boot and other OS security features that require a TPM. "
            + "Once enabled, vTPM can be used to attest boot integrity.",
        RemediationDescription = "Deallocate the VM, set properties.securityProfile.uefiSettings.vTpmEnabled to true, and start it.",
        UserImpact = "Low",
        ImplementationEffort = "Low",
        Threats = ["MaliciousInsider", "ElevationOfPrivilege", "DataExfiltration"],
        PolicyDefinitionId = "/providers/Microsoft.Authorization/policyDefinitions/1c30f9cd-b84c-49cc-aa2c-9288447cc3b3",
        Applicability = "As Secure Boot: Trusted Launch VMs; Gen1, unsupported sizes and Standard VMs are NotApplicable.",
    };

    /// <summary>Azure's Linux variant of "Guest Attestation extension should be installed" (the guests here are Linux).</summary>
    public static Recommendation GuestAttestationAgent { get; } = new()
    {
        Key = "e94a7421-fc27-7a4d-e9ba-2ba01384cacd",
        DisplayName = "Guest Attestation extension should be installed on supported Linux virtual machines",
        Severity = Severity.Low,
        Description = "Install the guest attestation agent (tl-guest-agent) on supported Trusted Launch virtual machines with Secure Boot and vTPM, so that "
            + "the platform can attest and monitor their boot integrity. Installed means: the agent answered since the VM last booted.",
        RemediationDescription = "Use an image that carries tl-guest-agent (tl image build debian-12 includes it) and make sure the agent runs; "
            + "the VM's host relays its evidence every attestation interval.",
        UserImpact = "Low",
        ImplementationEffort = "Low",
        Threats = ["MaliciousInsider", "ElevationOfPrivilege"],
        PolicyDefinitionId = "/providers/Microsoft.Authorization/policyDefinitions/672fe5a1-2fcd-42d7-b85d-902b6e28c6ff",
        Applicability = "Running Trusted Launch VMs with Secure Boot and vTPM on; others are NotApplicable.",
    };

    public static Recommendation AttestationHealth { get; } = new()
    {
        Key = "b7604066-ed76-45f9-a5c1-c97e4812dc55",
        DisplayName = "Virtual machines guest attestation status should be healthy",
        Severity = Severity.Medium,
        Description = "Guest attestation is performed by sending a trusted log (TCGLog) to an attestation server, which uses it to determine whether "
            + "boot components are trustworthy. Healthy means: the VM's latest attestation passed and is fresh (not older than three attestation intervals).",
        RemediationDescription = "Look at the VM's latest attestation (GET /v1/vms/{vmId}/attestations/latest, the alert's extendedProperties): "
            + "a deviation from the baseline means the boot changed; relearn the baseline if the change was intended.",
        UserImpact = "Moderate",
        ImplementationEffort = "Moderate",
        Threats = ["MaliciousInsider", "ElevationOfPrivilege", "DataExfiltration"],
        PolicyDefinitionId = "/providers/Microsoft.Authorization/policyDefinitions/f6358610-e532-4236-b178-4c65865eb262",
        Applicability = "Running Trusted Launch VMs with Secure Boot and vTPM on; others are NotApplicable.",
    };

    /// <summary>All four, in the order the API lists them.</summary>
    public static IReadOnlyList<Recommendation> All { get; } = [SecureBoot, VTpm, GuestAttestationAgent, AttestationHealth];

    /// <summary>The recommendation with this assessment key (case-insensitive), the Secure Boot rollover ones included, or null.</summary>
    public static Recommendation? Find(string key) =>
        All.Concat(SecureBootRolloverRecommendations.All).FirstOrDefault(r => string.Equals(r.Key, key, StringComparison.OrdinalIgnoreCase));
}
