using System.Globalization;
using System.Security.Cryptography;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Attestation;

/// <summary>Why a key sent for a bound token is refused (the attestation itself may still pass).</summary>
public enum BoundKeyFailureReason
{
    /// <summary>The certify structure or signature is not well-formed.</summary>
    CertifyMalformed,

    /// <summary>The certify signature does not verify with the (already verified) AK.</summary>
    CertifySignatureInvalid,

    /// <summary>The certify is not a TPM-generated TPM_ST_ATTEST_CERTIFY.</summary>
    NotACertify,

    /// <summary>The certify's extraData is not this attestation's nonce.</summary>
    CertifyNonceMismatch,

    /// <summary>The certified Name is not nameAlg ‖ H(public area) of the key sent.</summary>
    NameMismatch,

    /// <summary>The key is not an RSA OAEP-SHA-256 decryption key the TPM generated and keeps, usable by policy only.</summary>
    KeyAttributesRejected,

    /// <summary>The key's PolicyPCR selection does not cover the attested PCRs in a quoted bank of SHA-256 or stronger.</summary>
    PolicySelectionRejected,

    /// <summary>The key's authPolicy is not the PolicyPCR digest of the quoted values of its selection.</summary>
    PolicyMismatch,
}

/// <summary>A refused bound key: the reason, the component (<c>bound key: policy</c>, …) and a sentence.</summary>
public sealed record BoundKeyFailure(BoundKeyFailureReason Reason, string Component, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Reason} [{Component}]: {Message}";
}

/// <summary>A key the verifier accepted: only this TPM, with the quoted values in <see cref="Selection"/>, can use it.</summary>
public sealed record VerifiedBoundKey(TpmtPublic Public, byte[] Name, TpmlPcrSelection Selection)
{
    /// <summary>The JWE <c>kid</c>: the key's Name, base64url.</summary>
    public string KeyId => System.Buffers.Text.Base64Url.EncodeToString(Name);
}

/// <summary>
/// The rules for a bound key (docs/attestation.md, "Tokens bound to the vTPM"), applied after the quote and the event log
/// verified: TPM2_Certify by the verified AK, of type ATTEST_CERTIFY, over the nonce, naming exactly the key sent; the key
/// fixedTPM | fixedParent | sensitiveDataOrigin | decrypt, neither restricted nor sign, without userWithAuth (so only its
/// policy can authorize it); its authPolicy the PolicyPCR digest of the quoted (replayed) values of the selection it claims.
/// </summary>
internal static class BoundKeyVerifier
{
    private const TpmaObject Required = KeyTemplates.PcrBoundKeyAttributes;
    private const TpmaObject Forbidden = TpmaObject.Restricted | TpmaObject.Sign | TpmaObject.UserWithAuth;

    public static BoundKeyFailure? Verify(BoundKeyEvidence evidence, TpmtPublic key, byte[] name, TpmtPublic ak, ReadOnlySpan<byte> nonce,
        IReadOnlyDictionary<(TpmAlgId Hash, int Index), byte[]> quoted, IReadOnlyList<int> attested, out VerifiedBoundKey? verified)
    {
        verified = null;
        TpmsAttest certify;
        TpmtSignature signature;
        try
        {
            certify = TpmsAttest.Parse(evidence.CertifyInfo);
            signature = TpmtSignature.Parse(evidence.Signature);
        }
        catch (TpmFormatException e)
        {
            return new(BoundKeyFailureReason.CertifyMalformed, "bound key: certify", e.Message);
        }

        (QuoteFailure failure, string detail) = QuoteVerifier.CheckSignature(ak, evidence.CertifyInfo, signature);
        if (failure != QuoteFailure.None)
            return new(BoundKeyFailureReason.CertifySignatureInvalid, "bound key: certify signature", "the AK did not sign this certify: " + detail);
        if (certify.Magic != TpmsAttest.GeneratedValue || certify.Type != TpmSt.AttestCertify || certify.Attested is not TpmsCertifyInfo info)
        {
            return new(BoundKeyFailureReason.NotACertify, "bound key: certify type",
                string.Create(CultureInfo.InvariantCulture, $"magic 0x{certify.Magic:X8}, type 0x{(ushort)certify.Type:X4}: not a TPM-generated TPM_ST_ATTEST_CERTIFY (Part 2 §10.12.12)"));
        }

        if (!CryptographicOperations.FixedTimeEquals(certify.ExtraData, nonce))
            return new(BoundKeyFailureReason.CertifyNonceMismatch, "bound key: certify nonce", "the certify was made for another challenge");
        if (!CryptographicOperations.FixedTimeEquals(info.Name, name))
        {
            return new(BoundKeyFailureReason.NameMismatch, "bound key: name",
                $"the AK certified {Convert.ToHexStringLower(info.Name)}, the key sent is {Convert.ToHexStringLower(name)}");
        }

        if (AttributeFailure(key) is string attributes)
            return new(BoundKeyFailureReason.KeyAttributesRejected, "bound key: attributes", attributes);

        if (!EvidenceJson.TryParseBank(evidence.PolicyBank, out TpmAlgId bank))
            return new(BoundKeyFailureReason.PolicySelectionRejected, "bound key: policy PCRs", $"'{evidence.PolicyBank}' is not a PCR bank");
        TpmlPcrSelection selection = TpmlPcrSelection.Of(bank, [.. evidence.PolicyPcrs]);
        if (SelectionFailure(bank, evidence.PolicyPcrs, quoted, attested) is string weak)
            return new(BoundKeyFailureReason.PolicySelectionRejected, "bound key: policy PCRs", weak);

        byte[] expected = PolicyDigests.PolicyPcr(key.NameAlg, selection, quoted)!; // every PCR is quoted (checked above)
        if (!CryptographicOperations.FixedTimeEquals(expected, key.AuthPolicy))
        {
            return new(BoundKeyFailureReason.PolicyMismatch, "bound key: policy",
                $"authPolicy {Convert.ToHexStringLower(key.AuthPolicy)} is not PolicyPCR({selection}) over the quoted values, {Convert.ToHexStringLower(expected)}");
        }

        verified = new VerifiedBoundKey(key, name, selection);
        return null;
    }

    private static string? AttributeFailure(TpmtPublic key)
    {
        if ((key.ObjectAttributes & Required) != Required || (key.ObjectAttributes & Forbidden) != 0)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"attributes 0x{(uint)key.ObjectAttributes:X8} are not fixedTPM|fixedParent|sensitiveDataOrigin|decrypt without restricted, sign or userWithAuth");
        }

        if (key.Type != TpmAlgId.Rsa || key.RsaKeyBits is < 2048 or > 4096 || key.Unique.Length * 8 != key.RsaKeyBits)
            return "the key is not an RSA key of 2048 to 4096 bits";
        if (key.Scheme != new TpmtScheme(TpmAlgId.Oaep, TpmAlgId.Sha256) || key.Symmetric != TpmtSymDef.Null)
            return $"scheme {key.Scheme.Scheme}/{key.Scheme.Hash} is not OAEP with SHA-256 (RFC 7518 §4.3 RSA-OAEP-256)";
        if (!TpmHashAlgorithm.IsComputable(key.NameAlg) || TpmHashAlgorithm.DigestSize(key.NameAlg) < 32)
            return $"nameAlg {key.NameAlg} is weaker than SHA-256";
        return null;
    }

    private static string? SelectionFailure(TpmAlgId bank, IReadOnlyList<int> pcrs, IReadOnlyDictionary<(TpmAlgId Hash, int Index), byte[]> quoted,
        IReadOnlyList<int> attested)
    {
        if (TpmHashAlgorithm.DigestSize(bank) < 32)
            return $"the {TpmHashAlgorithm.BankName(bank)} bank is weaker than SHA-256";
        int[] notQuoted = pcrs.Where(i => !quoted.ContainsKey((bank, i))).Order().ToArray();
        if (notQuoted.Length > 0)
            return $"PCR {string.Join(", ", notQuoted)} of the {TpmHashAlgorithm.BankName(bank)} bank were not quoted, so their values are unknown";
        int[] uncovered = attested.Where(i => !pcrs.Contains(i)).ToArray();
        if (uncovered.Length > 0)
            return $"the policy leaves out attested PCR {string.Join(", ", uncovered)}: another boot could use the key";
        return null;
    }
}
