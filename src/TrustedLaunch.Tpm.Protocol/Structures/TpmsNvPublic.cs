namespace TrustedLaunch.Tpm.Protocol;

/// <summary><c>TPMS_NV_PUBLIC</c> (TPM 2.0 Library Part 2 §13.5).</summary>
public sealed record TpmsNvPublic(uint NvIndex, TpmAlgId NameAlg, TpmaNv Attributes, byte[] AuthPolicy, ushort DataSize)
{
    public void Write(TpmWriter writer)
    {
        writer.WriteUInt32(NvIndex);
        writer.WriteAlgId(NameAlg);
        writer.WriteUInt32((uint)Attributes);
        writer.WriteSized(AuthPolicy);
        writer.WriteUInt16(DataSize);
    }

    /// <summary>Writes a <c>TPM2B_NV_PUBLIC</c>.</summary>
    public void WriteSized(TpmWriter writer)
    {
        int mark = writer.BeginSized();
        Write(writer);
        writer.EndSized(mark);
    }

    public byte[] ToBytes()
    {
        var w = new TpmWriter(48);
        Write(w);
        return w.ToArray();
    }

    public static TpmsNvPublic Read(ref TpmReader reader)
    {
        int at = reader.Position;
        uint index = reader.ReadUInt32();
        if (TpmHandles.HandleType(index) != TpmHandles.TypeNvIndex)
            throw TpmReader.Malformed($"NV index 0x{index:X8} is not in the NV handle range.", at);
        TpmAlgId nameAlg = reader.ReadAlgId();
        if (TpmHashAlgorithm.DigestSize(nameAlg) == 0)
            throw TpmReader.Malformed($"NV nameAlg 0x{(ushort)nameAlg:X4} is not a hash.", at + 4);
        return new TpmsNvPublic(index, nameAlg, (TpmaNv)reader.ReadUInt32(),
            reader.ReadSized(TpmtPublic.MaxDigestBytes, "authPolicy").ToArray(), reader.ReadUInt16());
    }

    /// <summary>Reads a <c>TPM2B_NV_PUBLIC</c>.</summary>
    public static TpmsNvPublic ReadSized(ref TpmReader reader)
    {
        var inner = new TpmReader(reader.ReadSized());
        var value = Read(ref inner);
        inner.ExpectEnd("TPM2B_NV_PUBLIC");
        return value;
    }

    /// <summary>The index Name: nameAlg ‖ H(marshalled TPMS_NV_PUBLIC) (Part 1 §16). Changes when WRITTEN is set.</summary>
    public byte[] ComputeName() => TpmtPublic.ComputeName(NameAlg, ToBytes());

    public bool Equals(TpmsNvPublic? other) => other is not null && ToBytes().AsSpan().SequenceEqual(other.ToBytes());

    public override int GetHashCode() => HashCode.Combine(NvIndex, Attributes, DataSize);
}
