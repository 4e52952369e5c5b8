using System.Security.Cryptography;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Crypto;

/// <summary>Policy digests a verifier computes in software to know what a key's authPolicy requires.</summary>
public static class PolicyDigests
{
    /// <summary>
    /// The policyDigest of a session that starts from zeros and runs TPM2_PolicyPCR once (Part 3 §23.7.1):
    /// policyDigest_new = H(policyDigest_old ‖ TPM_CC_PolicyPCR ‖ pcrs ‖ digestTPM), with digestTPM the hash of the selected
    /// PCR values concatenated in selection order (banks as listed, indices ascending). Null when a selected value is missing.
    /// </summary>
    public static byte[]? PolicyPcr(TpmAlgId policyHash, TpmlPcrSelection selection, IReadOnlyDictionary<(TpmAlgId Hash, int Index), byte[]> values)
    {
        ArgumentNullException.ThrowIfNull(selection);
        ArgumentNullException.ThrowIfNull(values);
        byte[]? pcrDigest = QuoteVerifier.ComputePcrDigest(policyHash, selection, values, out _);
        if (pcrDigest is null)
            return null;
        using var hash = IncrementalHash.CreateHash(TpmHashAlgorithm.ToHashAlgorithmName(policyHash));
        hash.AppendData(new byte[TpmHashAlgorithm.DigestSize(policyHash)]); // Part 3 §23.1: a new session's policyDigest is all zeros
        Span<byte> code = stackalloc byte[sizeof(uint)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(code, (uint)TpmCc.PolicyPCR);
        hash.AppendData(code);
        hash.AppendData(selection.ToBytes()); // the marshalled TPML_PCR_SELECTION
        hash.AppendData(pcrDigest);
        return hash.GetHashAndReset();
    }
}
