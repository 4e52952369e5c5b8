namespace TrustedLaunch.Posture.Assessments;

/// <summary>
/// The two recommendations of the 2026 Secure Boot certificate rollover (docs/secureboot-rollover.md). Not Azure's:
/// their keys are this platform's own GUIDs. Both are judged from attested evidence, the KEK/db/dbx measured into PCR 7
/// (the <c>x-tl-secureboot-keys</c> claim of the VM's latest passing attestation), never from what the control plane
/// believes is in the VM's variable store.
/// </summary>
public static class SecureBootRolloverRecommendations
{
    public static Recommendation Certificates2023 { get; } = new()
    {
        Key = "5c1d7e0a-2b9f-4f3e-9a64-2026b007ca23",
        DisplayName = "Secure Boot certificates should be updated to the 2023 Microsoft CAs",
        Severity = Severity.Medium,
        Description = "Microsoft's 2011 Secure Boot CAs expired in 2026 and boot loaders are now signed by the 2023 CAs only. A VM whose db lacks "
            + "Microsoft UEFI CA 2023 refuses the first such boot loader (a shim update), and one whose KEK lacks Microsoft Corporation KEK 2K CA 2023 "
            + "cannot take Microsoft's db/dbx updates signed with it.",
        RemediationDescription = "Add the 2023 CAs to the VM's Secure Boot store: tl vm secure-boot update-keys -g RG -n NAME --template microsoft "
            + "(POST …/x-tl-updateSecureBootKeys: the 2011 and 2023 CAs together, as Microsoft recommends), applied by its host while the VM is "
            + "deallocated or at its next restart; the pre-flight refuses if the VM's own boot chain would break. Remediate (POST …/remediate) does "
            + "deallocate → update-keys → start; the next attestation shows the new keys and relearns the baseline for the operation.",
        Remediable = true,
        UserImpact = "Moderate",
        ImplementationEffort = "Low",
        Threats = ["ServiceDisruption", "ElevationOfPrivilege"],
        PolicyDefinitionId = "",
        Applicability = "Running Trusted Launch VMs with Secure Boot and vTPM whose attested KEK or db holds a Microsoft CA; custom-key VMs and VMs "
            + "without a passing attestation are NotApplicable.",
    };

    public static Recommendation DbxCurrent { get; } = new()
    {
        Key = "9e27c4b1-6d0a-4c55-8f13-2026db0c0de1",
        DisplayName = "dbx should be current",
        Severity = Severity.Low,
        Description = "The VM's forbidden-signature database (dbx) is older than the newest dbx update the operator has loaded: boot loaders Microsoft "
            + "has revoked (BlackLotus-era shims and boot managers) still start on it.",
        RemediationDescription = "Apply the update through the VM's KEK: tl vm secure-boot update-keys -g RG [-n NAME] --dbx-update DBXUpdate.bin "
            + "(a whole resource group or scale set without -n). A VM whose KEK holds only the 2023 KEK refuses Microsoft's KEK CA 2011-signed update by name.",
        UserImpact = "Low",
        ImplementationEffort = "Low",
        Threats = ["ElevationOfPrivilege"],
        PolicyDefinitionId = "",
        Applicability = "As the 2023 certificates recommendation, and only once the operator has loaded a dbx update.",
    };

    /// <summary>Both, in the order the API lists them.</summary>
    public static IReadOnlyList<Recommendation> All { get; } = [Certificates2023, DbxCurrent];
}
