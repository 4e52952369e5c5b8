namespace TrustedLaunch.Tpm.Protocol;

/// <summary>
/// A ticket: <c>TPMT_TK_CREATION</c>, <c>TPMT_TK_VERIFIED</c>, <c>TPMT_TK_AUTH</c> or <c>TPMT_TK_HASHCHECK</c>
/// (TPM 2.0 Library Part 2 §10.7): tag, hierarchy, HMAC digest.
/// </summary>
public sealed record TpmtTicket(TpmSt Tag, uint Hierarchy, byte[] Digest)
{
    /// <summary>The NULL ticket a TPM returns when none applies, and callers pass to say "none".</summary>
    public static TpmtTicket NullTicket(TpmSt tag) => new(tag, TpmHandles.Null, []);

    public void Write(TpmWriter writer)
    {
        writer.WriteUInt16((ushort)Tag);
        writer.WriteUInt32(Hierarchy);
        writer.WriteSized(Digest);
    }

    public static TpmtTicket Read(ref TpmReader reader) =>
        new((TpmSt)reader.ReadUInt16(), reader.ReadUInt32(), reader.ReadSized(TpmlDigest.MaxDigestSize, "ticket digest").ToArray());
}

/// <summary>
/// <c>TPM2B_ID_OBJECT</c> contents (TPM 2.0 Library Part 1 §24.6, Part 2 §12.4.3): the outer integrity HMAC as a
/// TPM2B_DIGEST followed by the encrypted TPM2B_DIGEST credential (encIdentity, no size prefix of its own).
/// </summary>
public sealed record TpmIdObject(byte[] IntegrityHmac, byte[] EncIdentity)
{
    public byte[] ToBytes()
    {
        var w = new TpmWriter(IntegrityHmac.Length + EncIdentity.Length + 2);
        w.WriteSized(IntegrityHmac);
        w.WriteBytes(EncIdentity);
        return w.ToArray();
    }

    /// <summary>Writes the <c>TPM2B_ID_OBJECT</c> (size-prefixed).</summary>
    public void WriteSized(TpmWriter writer) => writer.WriteSized(ToBytes());

    /// <summary>Parses the inner bytes (without the TPM2B size).</summary>
    public static TpmIdObject Parse(ReadOnlySpan<byte> bytes)
    {
        var reader = new TpmReader(bytes);
        byte[] hmac = reader.ReadSized(TpmlDigest.MaxDigestSize, "integrityHMAC").ToArray();
        return new TpmIdObject(hmac, reader.Rest.ToArray());
    }

    public bool Equals(TpmIdObject? other) =>
        other is not null && IntegrityHmac.AsSpan().SequenceEqual(other.IntegrityHmac) && EncIdentity.AsSpan().SequenceEqual(other.EncIdentity);

    public override int GetHashCode() => HashCode.Combine(IntegrityHmac.Length, EncIdentity.Length);
}

/// <summary><c>TPMS_ECC_POINT</c> (Part 2 §11.2.5.2), the ECC form of a <c>TPM2B_ENCRYPTED_SECRET</c>.</summary>
public sealed record TpmsEccPoint(byte[] X, byte[] Y)
{
    public byte[] ToBytes()
    {
        var w = new TpmWriter(X.Length + Y.Length + 4);
        w.WriteSized(X);
        w.WriteSized(Y);
        return w.ToArray();
    }

    public static TpmsEccPoint Parse(ReadOnlySpan<byte> bytes)
    {
        var reader = new TpmReader(bytes);
        var point = new TpmsEccPoint(reader.ReadSized(TpmtPublic.MaxEccKeyBytes, "x").ToArray(), reader.ReadSized(TpmtPublic.MaxEccKeyBytes, "y").ToArray());
        reader.ExpectEnd("TPMS_ECC_POINT");
        return point;
    }
}
