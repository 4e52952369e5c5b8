namespace TrustedLaunch.Tpm.Protocol;

/// <summary>
/// Endorsement-key templates of the TCG EK Credential Profile for TPM Family 2.0 (v2.5, §B.3 and §B.4). Creating a
/// primary key in the endorsement hierarchy from one of these always yields the same key for a given EPS, so a
/// verifier can recompute the EK Name from the certified public key.
/// </summary>
public static class EkTemplates
{
    /// <summary>
    /// PolicyA for SHA-256 (EK Credential Profile §B.3.2): TPM2_PolicySecret(TPM_RH_ENDORSEMENT), i.e.
    /// SHA256(0³² ‖ TPM_CC_PolicySecret ‖ Name(TPM_RH_ENDORSEMENT) ) then SHA256(that ‖ empty policyRef).
    /// </summary>
    public static ReadOnlySpan<byte> PolicyASha256 =>
    [
        0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC, 0x8D, 0x46, 0xA5, 0xD7, 0x24,
        0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52, 0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA,
    ];

    /// <summary>PolicyB for SHA-384 (§B.4): PolicyOR of PolicyA(SHA-384 form) branches, used by the high-range templates.</summary>
    public static ReadOnlySpan<byte> PolicyBSha384 =>
    [
        0xB2, 0x6E, 0x7D, 0x28, 0xD1, 0x1A, 0x50, 0xBC, 0x53, 0xD8, 0x82, 0xBC, 0xF5, 0xFD, 0x3A, 0x1A,
        0x07, 0x41, 0x48, 0xBB, 0x35, 0xD3, 0xB4, 0xE4, 0xCB, 0x1C, 0x0A, 0xD9, 0xBD, 0xE4, 0x19, 0xCA,
        0xCB, 0x47, 0xBA, 0x09, 0x69, 0x96, 0x46, 0x15, 0x0F, 0x9F, 0xC0, 0x00, 0xF3, 0xF8, 0x0E, 0x12,
    ];

    /// <summary>
    /// fixedTPM, fixedParent, sensitiveDataOrigin, adminWithPolicy, restricted, decrypt = 0x000300B2 (§B.3.3):
    /// no userWithAuth, so every use of the EK needs the PolicySecret session.
    /// </summary>
    public const TpmaObject LowRangeAttributes = TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin
        | TpmaObject.AdminWithPolicy | TpmaObject.Restricted | TpmaObject.Decrypt;

    /// <summary>The high-range templates add userWithAuth (0x000300F2, §B.4).</summary>
    public const TpmaObject HighRangeAttributes = LowRangeAttributes | TpmaObject.UserWithAuth;

    /// <summary>Template L-1: RSA 2048, SHA-256, AES-128-CFB, 256-byte zero unique (§B.3.3, Table 2).</summary>
    public static TpmtPublic RsaL1 => new()
    {
        Type = TpmAlgId.Rsa,
        NameAlg = TpmAlgId.Sha256,
        ObjectAttributes = LowRangeAttributes,
        AuthPolicy = PolicyASha256.ToArray(),
        Symmetric = TpmtSymDef.Aes128Cfb,
        Scheme = TpmtScheme.Null,
        RsaKeyBits = 2048,
        RsaExponent = 0,
        Unique = new byte[256],
    };

    /// <summary>Template L-2: ECC NIST P-256, SHA-256, AES-128-CFB, 32-byte zero x and y (§B.3.4, Table 3).</summary>
    public static TpmtPublic EccL2 => new()
    {
        Type = TpmAlgId.Ecc,
        NameAlg = TpmAlgId.Sha256,
        ObjectAttributes = LowRangeAttributes,
        AuthPolicy = PolicyASha256.ToArray(),
        Symmetric = TpmtSymDef.Aes128Cfb,
        Scheme = TpmtScheme.Null,
        EccCurve = TpmEccCurve.NistP256,
        EccKdf = TpmtScheme.Null,
        Unique = new byte[32],
        UniqueY = new byte[32],
    };

    /// <summary>Template H-3: ECC NIST P-384, SHA-384, AES-256-CFB, empty unique (§B.4) — what swtpm_setup provisions.</summary>
    public static TpmtPublic EccP384H3 => new()
    {
        Type = TpmAlgId.Ecc,
        NameAlg = TpmAlgId.Sha384,
        ObjectAttributes = HighRangeAttributes,
        AuthPolicy = PolicyBSha384.ToArray(),
        Symmetric = TpmtSymDef.Aes256Cfb,
        Scheme = TpmtScheme.Null,
        EccCurve = TpmEccCurve.NistP384,
        EccKdf = TpmtScheme.Null,
    };
}

/// <summary>Templates for attestation and storage keys (TCG TPM v2.0 Provisioning Guidance §7.5; go-tpm-tools AK templates).</summary>
public static class KeyTemplates
{
    /// <summary>fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, restricted, sign = 0x00050072.</summary>
    public const TpmaObject AttestationKeyAttributes = TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin
        | TpmaObject.UserWithAuth | TpmaObject.Restricted | TpmaObject.Sign;

    /// <summary>fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, noDA, restricted, decrypt = 0x00030472.</summary>
    public const TpmaObject StorageKeyAttributes = TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin
        | TpmaObject.UserWithAuth | TpmaObject.NoDA | TpmaObject.Restricted | TpmaObject.Decrypt;

    /// <summary>
    /// fixedTPM, fixedParent, sensitiveDataOrigin, decrypt = 0x00020032: a key that never leaves the TPM and that only a
    /// policy session can use (userWithAuth clear, Part 1 §19.7.1), neither restricted nor a signing key.
    /// </summary>
    public const TpmaObject PcrBoundKeyAttributes = TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin | TpmaObject.Decrypt;

    /// <summary>
    /// RSA-2048 decryption key for tokens bound to the TPM's boot state: OAEP with SHA-256 fixed in the key (so it can
    /// only unwrap RFC 7518 §4.3 RSA-OAEP-256 keys, never act as a raw RSA oracle), usable only through
    /// <paramref name="authPolicy"/> (a PolicyPCR digest).
    /// </summary>
    public static TpmtPublic PcrBoundDecryptionKey(byte[] authPolicy) => new()
    {
        Type = TpmAlgId.Rsa,
        NameAlg = TpmAlgId.Sha256,
        ObjectAttributes = PcrBoundKeyAttributes,
        AuthPolicy = authPolicy,
        Scheme = new TpmtScheme(TpmAlgId.Oaep, TpmAlgId.Sha256),
        RsaKeyBits = 2048,
    };

    /// <summary>RSA-2048 restricted signing key, RSASSA-SHA256 (the AK shape Azure and GCE use).</summary>
    public static TpmtPublic RsaAttestationKey(TpmAlgId scheme = TpmAlgId.RsaSsa, TpmAlgId hash = TpmAlgId.Sha256) => new()
    {
        Type = TpmAlgId.Rsa,
        NameAlg = TpmAlgId.Sha256,
        ObjectAttributes = AttestationKeyAttributes,
        Scheme = new TpmtScheme(scheme, hash),
        RsaKeyBits = 2048,
    };

    /// <summary>ECC NIST P-256 restricted signing key, ECDSA-SHA256.</summary>
    public static TpmtPublic EccAttestationKey(TpmAlgId hash = TpmAlgId.Sha256) => new()
    {
        Type = TpmAlgId.Ecc,
        NameAlg = TpmAlgId.Sha256,
        ObjectAttributes = AttestationKeyAttributes,
        Scheme = new TpmtScheme(TpmAlgId.EcDsa, hash),
        EccCurve = TpmEccCurve.NistP256,
        EccKdf = TpmtScheme.Null,
    };

    /// <summary>RSA-2048 storage root key (SRK), AES-128-CFB (Provisioning Guidance §7.5.1).</summary>
    public static TpmtPublic RsaStorageKey() => new()
    {
        Type = TpmAlgId.Rsa,
        NameAlg = TpmAlgId.Sha256,
        ObjectAttributes = StorageKeyAttributes,
        Symmetric = TpmtSymDef.Aes128Cfb,
        RsaKeyBits = 2048,
    };

    /// <summary>ECC NIST P-256 storage root key, AES-128-CFB.</summary>
    public static TpmtPublic EccStorageKey() => new()
    {
        Type = TpmAlgId.Ecc,
        NameAlg = TpmAlgId.Sha256,
        ObjectAttributes = StorageKeyAttributes,
        Symmetric = TpmtSymDef.Aes128Cfb,
        EccCurve = TpmEccCurve.NistP256,
        EccKdf = TpmtScheme.Null,
    };
}
