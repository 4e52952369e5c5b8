using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Crypto;

/// <summary>Why a quote did not verify; each check has its own reason so a verifier can report precisely.</summary>
public enum QuoteFailure
{
    None = 0,
    /// <summary>The attestation bytes are not a well-formed TPMS_ATTEST.</summary>
    MalformedAttest,
    /// <summary>The signature bytes are not a well-formed TPMT_SIGNATURE.</summary>
    MalformedSignature,
    /// <summary>The key cannot make this kind of signature (RSA key, ECDSA signature; unsupported curve or hash).</summary>
    KeySignatureMismatch,
    /// <summary>The signature does not verify over the attestation bytes with the given key.</summary>
    BadSignature,
    /// <summary>magic is not TPM_GENERATED_VALUE: the TPM did not produce this structure.</summary>
    NotTpmGenerated,
    /// <summary>The structure is an attestation, but not TPM_ST_ATTEST_QUOTE.</summary>
    NotAQuote,
    /// <summary>extraData is not the expected nonce/qualifying data.</summary>
    QualifyingDataMismatch,
    /// <summary>The PCR values supplied do not cover the PCRs the quote selected.</summary>
    PcrValuesMissing,
    /// <summary>The digest of the supplied PCR values differs from the quote's pcrDigest.</summary>
    PcrDigestMismatch,
}

/// <summary>The outcome of <see cref="QuoteVerifier.Verify"/>.</summary>
public sealed record QuoteVerification(QuoteFailure Failure, string Detail, TpmsAttest? Attest = null, byte[]? ComputedPcrDigest = null)
{
    public bool IsValid => Failure == QuoteFailure.None;
}
