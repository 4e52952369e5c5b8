using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.VTpm.Identity;

/// <summary>Where a manufactured vTPM keeps its identity: one key slot per key, with its certificate's NV index.</summary>
public sealed record VTpmKeySlot(string Role, uint PersistentHandle, uint CertificateIndex);

/// <summary>
/// The layout every TrustedLaunch vTPM has (docs/vtpm.md): EKs at the TCG Provisioning Guidance handles with their
/// certificates at the EK Credential Profile NV indices; the AK where Azure Trusted Launch keeps it.
/// </summary>
public static class VTpmLayout
{
    /// <summary>RSA-2048 EK (template L-1) at 0x81010001, certificate at 0x01C00002.</summary>
    public static VTpmKeySlot EkRsa { get; } = new("ek-rsa2048", TpmHandles.WellKnown.EkRsaPersistent, TpmHandles.WellKnown.EkRsaCertificateNv);

    /// <summary>ECC NIST P-256 EK (template L-2) at 0x81010002, certificate at 0x01C0000A.</summary>
    public static VTpmKeySlot EkEcc { get; } = new("ek-eccp256", TpmHandles.WellKnown.EkEccPersistent, TpmHandles.WellKnown.EkEccCertificateNv);

    /// <summary>RSA-2048 restricted signing AK at 0x81000003, certificate at 0x01C101D0 (Azure's layout).</summary>
    public static VTpmKeySlot Ak { get; } = new("ak-rsa2048", TpmHandles.WellKnown.AzureAkPersistent, TpmHandles.WellKnown.AzureAkCertificateNv);

    public static IReadOnlyList<VTpmKeySlot> Slots { get; } = [EkRsa, EkEcc, Ak];

    /// <summary>
    /// NV attributes of the certificate indices: PLATFORMCREATE | AUTHREAD | OWNERREAD | PPREAD | PPWRITE | NO_DA |
    /// WRITEDEFINE = 0x42072001, as swtpm_setup and the TCG PC Client Platform TPM Profile use; WRITTEN and
    /// WRITELOCKED are set once written and locked.
    /// </summary>
    public const TpmaNv CertificateIndexAttributes = TpmaNv.PlatformCreate | TpmaNv.AuthRead | TpmaNv.OwnerRead | TpmaNv.PpRead |
        TpmaNv.PpWrite | TpmaNv.NoDA | TpmaNv.WriteDefine;

    /// <summary>The AK: RSA-2048, RSASSA-SHA256, restricted signing, noDA (0x00050472, Azure's AK attributes).</summary>
    public static TpmtPublic AkTemplate => KeyTemplates.RsaAttestationKey() with
    {
        ObjectAttributes = KeyTemplates.AttestationKeyAttributes | TpmaObject.NoDA,
    };

    /// <summary>PCR banks libtpms 0.9.2 implements (vtpm.md §1.3), each either fully allocated or not at all.</summary>
    public static IReadOnlyList<TpmAlgId> ImplementedBanks { get; } = [TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384, TpmAlgId.Sha512];

    /// <summary>The default active banks: SHA-256 and SHA-1 (what OVMF measures into and older verifiers read).</summary>
    public static IReadOnlyList<TpmAlgId> DefaultBanks { get; } = [TpmAlgId.Sha256, TpmAlgId.Sha1];
}
