namespace TrustedLaunch.Tpm.Protocol;

/// <summary><c>TPML_DIGEST</c> (TPM 2.0 Library Part 2 §10.9.3): up to 8 TPM2B_DIGEST values.</summary>
public static class TpmlDigest
{
    /// <summary>The spec bounds this list at 8 (PCR_Read returns at most 8 digests per call).</summary>
    public const int MaxCount = 8;

    /// <summary>The largest digest any supported hash produces (SHA-512).</summary>
    public const int MaxDigestSize = 64;

    public static IReadOnlyList<byte[]> Read(ref TpmReader reader)
    {
        int count = reader.ReadCount(MaxCount, "TPML_DIGEST");
        var digests = new byte[count][];
        for (int i = 0; i < count; i++)
            digests[i] = reader.ReadSized(MaxDigestSize, "TPM2B_DIGEST").ToArray();
        return digests;
    }

    public static void Write(TpmWriter writer, IReadOnlyList<byte[]> digests)
    {
        if (digests.Count > MaxCount)
            throw new ArgumentException($"TPML_DIGEST holds at most {MaxCount} digests.", nameof(digests));
        writer.WriteUInt32((uint)digests.Count);
        foreach (var d in digests)
            writer.WriteSized(d);
    }
}

/// <summary>One <c>TPMT_HA</c>: a hash algorithm and its digest (Part 2 §10.3.2).</summary>
public sealed record TpmtHa(TpmAlgId Hash, byte[] Digest)
{
    public void Write(TpmWriter writer)
    {
        writer.WriteAlgId(Hash);
        writer.WriteBytes(Digest);
    }

    public static TpmtHa Read(ref TpmReader reader)
    {
        int at = reader.Position;
        TpmAlgId alg = reader.ReadAlgId();
        int size = TpmHashAlgorithm.DigestSize(alg);
        if (size == 0 && alg != TpmAlgId.Null)
            throw TpmReader.Malformed($"TPMT_HA hash algorithm 0x{(ushort)alg:X4} is not a hash.", at);
        return new TpmtHa(alg, reader.ReadBytes(size).ToArray());
    }
}
