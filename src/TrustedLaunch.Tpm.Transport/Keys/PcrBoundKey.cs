using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport;

/// <summary>
/// The guest's half of a token bound to its vTPM: an RSA decryption key whose only authorization is PolicyPCR over
/// <see cref="Selection"/> at the values the PCRs had when it was made (<see cref="KeyTemplates.PcrBoundDecryptionKey"/>).
/// It is a primary key of the owner hierarchy with an empty unique field, so the template alone re-creates the same key
/// in the same TPM (Part 1 §26.3) and nothing secret has to be kept between attesting and decrypting.
/// </summary>
public sealed record PcrBoundKey(TpmtPublic Template, TpmlPcrSelection Selection, byte[] PublicBytes, byte[] Name)
{
    /// <summary>RFC 7518 §4.3 RSA-OAEP-256: OAEP with SHA-256 and MGF1-SHA-256, empty label.</summary>
    public static TpmtScheme OaepSha256 => new(TpmAlgId.Oaep, TpmAlgId.Sha256);

    /// <summary>
    /// Makes the key for the current values of <paramref name="selection"/> and leaves it loaded at <paramref name="handle"/>.
    /// The policy digest comes from the TPM (a trial session), so the guest hashes nothing itself.
    /// </summary>
    public static PcrBoundKey Create(TpmClient tpm, TpmlPcrSelection selection, out uint handle, Func<TpmtPublic, TpmtPublic>? editTemplate = null)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentNullException.ThrowIfNull(selection);
        AuthSession trial = tpm.StartAuthSession(TpmSe.Trial);
        byte[] policy;
        try
        {
            // Part 3 §23.7: with an empty pcrDigest the TPM digests the selected PCRs' current values itself.
            tpm.PolicyPcr(trial.Handle, selection);
            policy = tpm.PolicyGetDigest(trial.Handle);
        }
        finally
        {
            tpm.FlushContext(trial.Handle);
        }

        TpmtPublic template = KeyTemplates.PcrBoundDecryptionKey(policy);
        if (editTemplate is not null)
            template = editTemplate(template);
        CreatePrimaryResult created = tpm.CreatePrimary(TpmHandles.Owner, template);
        handle = created.Handle;
        return new PcrBoundKey(template, selection, created.PublicBytes, created.Name);
    }

    /// <summary>
    /// TPM2_Certify of the loaded key by the AK with <paramref name="nonce"/> as qualifyingData: the AK vouches that the
    /// key with this Name is resident in the same TPM. The key's ADMIN role takes its (empty) authValue because
    /// adminWithPolicy is clear (Part 1 §19.7.2).
    /// </summary>
    public static AttestationResult Certify(TpmClient tpm, uint keyHandle, uint akHandle, ReadOnlySpan<byte> nonce)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        return tpm.Certify(keyHandle, akHandle, nonce);
    }

    /// <summary>
    /// The quote's qualifyingData when a bound key travels with the evidence: SHA-256(nonce ‖ Name), computed by the TPM
    /// (TPM2_Hash), so evidence stripped of its key, or given another, no longer matches its quote.
    /// </summary>
    public byte[] QuoteQualifyingData(TpmClient tpm, ReadOnlySpan<byte> nonce)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        byte[] input = [.. nonce, .. Name];
        return tpm.Hash(input, TpmAlgId.Sha256);
    }

    /// <summary>Re-creates the key from <see cref="Template"/>; fails when this TPM (or its owner seed) is not the one that made it.</summary>
    public uint Load(TpmClient tpm)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        CreatePrimaryResult created = tpm.CreatePrimary(TpmHandles.Owner, Template);
        if (!created.Name.AsSpan().SequenceEqual(Name))
        {
            tpm.FlushContext(created.Handle);
            throw new TpmResponseException("The template re-creates a different key: this is not the TPM (or owner seed) that made the bound key.");
        }

        return created.Handle;
    }

    /// <summary>
    /// TPM2_RSA_Decrypt (OAEP-SHA-256) of <paramref name="cipherText"/> in a policy session that has run PolicyPCR over
    /// <see cref="Selection"/>: the TPM compares that session's digest with the key's authPolicy, so with any PCR of the
    /// selection changed it answers TPM_RC_POLICY_FAIL. The result is a secret: the caller zeroes it.
    /// </summary>
    public byte[] Decrypt(TpmClient tpm, uint keyHandle, ReadOnlySpan<byte> cipherText)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        AuthSession session = tpm.StartAuthSession(TpmSe.Policy);
        try
        {
            tpm.PolicyPcr(session.Handle, Selection);
            return tpm.RsaDecrypt(keyHandle, cipherText, OaepSha256, keyAuth: TpmAuthorization.Policy(session.Handle));
        }
        finally
        {
            tpm.FlushContext(session.Handle);
        }
    }
}
