using System.Security.Cryptography;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Crypto;

/// <summary>
/// Verifies a TPM2_Quote (TPM 2.0 Library Part 3 §18.4) as go-tpm-tools' server and tpm2_checkquote do: the signature
/// over the exact TPMS_ATTEST bytes, TPM_GENERATED magic, the quote type, the qualifying data, and the PCR digest
/// recomputed from supplied PCR values. Each failed check yields its own <see cref="QuoteFailure"/>.
/// </summary>
public static class QuoteVerifier
{
    /// <param name="key">The AK public area (or one built from a PEM key with <see cref="TpmtPublic.FromPublicKey"/>).</param>
    /// <param name="attest">The TPMS_ATTEST bytes exactly as signed.</param>
    /// <param name="signature">The TPMT_SIGNATURE bytes.</param>
    /// <param name="qualifyingData">The nonce the verifier issued; null skips the check (an empty nonce is still checked).</param>
    /// <param name="pcrValues">PCR values per (bank, index); null skips the PCR-digest check.</param>
    /// <param name="pcrDigestAlg">Hash of the PCR digest; defaults to the signature's hash, which is what the TPM uses.</param>
    /// <param name="keys">Imported keys to reuse (a verifier's, sized by its host); null imports the key for this call.</param>
    public static QuoteVerification Verify(TpmtPublic key, ReadOnlySpan<byte> attest, ReadOnlySpan<byte> signature,
        ReadOnlySpan<byte> qualifyingData, bool checkQualifyingData, IReadOnlyDictionary<(TpmAlgId Hash, int Index), byte[]>? pcrValues,
        TpmAlgId? pcrDigestAlg = null, VerificationKeyCache? keys = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        TpmsAttest parsed;
        TpmtSignature sig;
        try
        {
            parsed = TpmsAttest.Parse(attest);
        }
        catch (TpmFormatException e)
        {
            return new(QuoteFailure.MalformedAttest, e.Message);
        }

        try
        {
            sig = TpmtSignature.Parse(signature);
        }
        catch (TpmFormatException e)
        {
            return new(QuoteFailure.MalformedSignature, e.Message, parsed);
        }

        var (sigFailure, sigDetail) = CheckSignature(key, attest, sig, keys);
        if (sigFailure != QuoteFailure.None)
            return new(sigFailure, sigDetail, parsed);
        if (parsed.Magic != TpmsAttest.GeneratedValue)
            return new(QuoteFailure.NotTpmGenerated, $"magic is 0x{parsed.Magic:X8}, not TPM_GENERATED_VALUE 0xFF544347.", parsed);
        if (parsed.Type != TpmSt.AttestQuote || parsed.Attested is not TpmsQuoteInfo quote)
            return new(QuoteFailure.NotAQuote, $"attestation type is 0x{(ushort)parsed.Type:X4}, not TPM_ST_ATTEST_QUOTE.", parsed);
        if (checkQualifyingData && !CryptographicOperations.FixedTimeEquals(parsed.ExtraData, qualifyingData))
            return new(QuoteFailure.QualifyingDataMismatch,
                $"extraData {HexOrEmpty(parsed.ExtraData)} differs from the expected {HexOrEmpty(qualifyingData)}.", parsed);
        if (pcrValues is null)
            return new(QuoteFailure.None, "signature, magic, type and qualifying data verified; PCR values not supplied.", parsed);

        TpmAlgId digestAlg = pcrDigestAlg ?? sig.Hash;
        byte[]? computed = ComputePcrDigest(digestAlg, quote.PcrSelect, pcrValues, out string? missing);
        if (computed is null)
            return new(QuoteFailure.PcrValuesMissing, $"no value supplied for PCR {missing} that the quote selected.", parsed);
        if (!CryptographicOperations.FixedTimeEquals(computed, quote.PcrDigest))
            return new(QuoteFailure.PcrDigestMismatch,
                $"pcrDigest {Convert.ToHexString(quote.PcrDigest)} differs from {Convert.ToHexString(computed)} computed over {quote.PcrSelect}.", parsed, computed);
        return new(QuoteFailure.None, $"quote verified over {quote.PcrSelect}.", parsed, computed);
    }

    /// <summary>
    /// Part 3 §18.4.1: pcrDigest = H(PCR values concatenated in selection order: banks as listed, indices ascending).
    /// Returns null and names the first missing PCR when a value was not supplied.
    /// </summary>
    public static byte[]? ComputePcrDigest(TpmAlgId digestAlg, TpmlPcrSelection selection,
        IReadOnlyDictionary<(TpmAlgId Hash, int Index), byte[]> values, out string? missing)
    {
        ArgumentNullException.ThrowIfNull(selection);
        ArgumentNullException.ThrowIfNull(values);
        using var hash = IncrementalHash.CreateHash(TpmHashAlgorithm.ToHashAlgorithmName(digestAlg));
        foreach (var pcr in selection.Pcrs())
        {
            if (!values.TryGetValue(pcr, out var value))
            {
                missing = $"{TpmHashAlgorithm.BankName(pcr.Hash) ?? pcr.Hash.ToString()}:{pcr.Index}";
                return null;
            }

            hash.AppendData(value);
        }

        missing = null;
        return hash.GetHashAndReset();
    }

    private static string HexOrEmpty(ReadOnlySpan<byte> bytes) => bytes.IsEmpty ? "(empty)" : Convert.ToHexString(bytes);

    /// <summary>Checks <paramref name="sig"/> over <paramref name="message"/> with <paramref name="key"/>.</summary>
    public static (QuoteFailure Failure, string Detail) CheckSignature(TpmtPublic key, ReadOnlySpan<byte> message, TpmtSignature sig,
        VerificationKeyCache? keys = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(sig);
        if (!TpmHashAlgorithm.IsComputable(sig.Hash))
            return (QuoteFailure.KeySignatureMismatch, $"signature hash 0x{(ushort)sig.Hash:X4} is not supported.");
        try
        {
            switch (key.Type, sig.SigAlg)
            {
                case (TpmAlgId.Rsa, TpmAlgId.RsaSsa):
                {
                    byte[] data = message.ToArray();
                    bool ok = sig.Signature.Length == key.Unique.Length && WithRsa(keys, key,
                        rsa => rsa.VerifyData(data, sig.Signature, TpmHashAlgorithm.ToHashAlgorithmName(sig.Hash), RSASignaturePadding.Pkcs1));
                    return ok ? (QuoteFailure.None, "RSASSA signature verified.") : (QuoteFailure.BadSignature, "RSASSA signature does not verify.");
                }

                case (TpmAlgId.Rsa, TpmAlgId.RsaPss):
                {
                    byte[] data = message.ToArray();
                    bool ok = WithRsa(keys, key, rsa => RsaPrimitives.PssVerify(rsa.ExportParameters(false), sig.Hash, data, sig.Signature));
                    return ok ? (QuoteFailure.None, "RSAPSS signature verified.") : (QuoteFailure.BadSignature, "RSAPSS signature does not verify.");
                }

                case (TpmAlgId.Ecc, TpmAlgId.EcDsa):
                {
                    int size = TpmtPublic.CoordinateSize(key.EccCurve);
                    var rs = new byte[2 * size];
                    TpmtPublic.LeftPad(sig.Signature, size).CopyTo(rs, 0);
                    TpmtPublic.LeftPad(sig.SignatureS, size).CopyTo(rs, size);
                    byte[] digest = new byte[TpmHashAlgorithm.DigestSize(sig.Hash)];
                    OpenSslTpmDigest.Instance.Hash(sig.Hash, message, digest);
                    bool ok = WithEcdsa(keys, key, ecdsa => ecdsa.VerifyHash(digest, rs, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
                    return ok ? (QuoteFailure.None, "ECDSA signature verified.") : (QuoteFailure.BadSignature, "ECDSA signature does not verify.");
                }

                default:
                    return (QuoteFailure.KeySignatureMismatch, $"a {key.Type} key cannot verify a {sig.SigAlg} signature.");
            }
        }
        catch (Exception e) when (e is CryptographicException or NotSupportedException or InvalidOperationException)
        {
            return (QuoteFailure.KeySignatureMismatch, $"key unusable for {sig.SigAlg}: {e.Message}");
        }
    }

    private static bool WithRsa(VerificationKeyCache? keys, TpmtPublic key, Func<RSA, bool> check)
    {
        if (keys is not null)
            return keys.WithRsa(key, check);
        using RSA rsa = key.ToRsa();
        return check(rsa);
    }

    private static bool WithEcdsa(VerificationKeyCache? keys, TpmtPublic key, Func<ECDsa, bool> check)
    {
        if (keys is not null)
            return keys.WithEcdsa(key, check);
        using ECDsa ecdsa = key.ToECDsa();
        return check(ecdsa);
    }
}
