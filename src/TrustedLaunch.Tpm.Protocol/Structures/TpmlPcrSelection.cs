namespace TrustedLaunch.Tpm.Protocol;

/// <summary><c>TPMS_PCR_SELECTION</c>: one bank and a bitmap of PCR indices (TPM 2.0 Library Part 2 §10.6.2).</summary>
public sealed record TpmsPcrSelection(TpmAlgId Hash, IReadOnlyList<int> Indices)
{
    /// <summary>PCR_SELECT_MAX bytes (Part 2 §10.6.1); 24 PCRs need 3, but the TPM may report more.</summary>
    public const int MaxSelectBytes = 4;

    /// <summary>The bitmap size the client uses for 24 PCRs (PC Client PTP: sizeofSelect = 3).</summary>
    public const int PcClientSelectBytes = 3;

    public void Write(TpmWriter writer, int sizeOfSelect = PcClientSelectBytes)
    {
        int needed = Indices.Count == 0 ? 0 : (Indices.Max() / 8) + 1;
        int size = Math.Max(sizeOfSelect, needed);
        if (size > MaxSelectBytes || Indices.Any(i => i < 0))
            throw new ArgumentException($"PCR index out of range in selection for {Hash}.");
        Span<byte> bitmap = stackalloc byte[MaxSelectBytes];
        bitmap.Clear();
        foreach (int i in Indices)
            bitmap[i / 8] |= (byte)(1 << (i % 8)); // Part 2 §10.6.2: PCR n is bit (n mod 8) of octet n/8
        writer.WriteAlgId(Hash);
        writer.WriteByte((byte)size);
        writer.WriteBytes(bitmap[..size]);
    }

    public static TpmsPcrSelection Read(ref TpmReader reader)
    {
        TpmAlgId hash = reader.ReadAlgId();
        int at = reader.Position;
        byte size = reader.ReadByte();
        if (size > MaxSelectBytes)
            throw TpmReader.Malformed($"sizeofSelect {size} exceeds PCR_SELECT_MAX {MaxSelectBytes}.", at);
        ReadOnlySpan<byte> bitmap = reader.ReadBytes(size);
        var indices = new List<int>();
        for (int i = 0; i < size * 8; i++)
        {
            if ((bitmap[i / 8] & (1 << (i % 8))) != 0)
                indices.Add(i);
        }

        return new TpmsPcrSelection(hash, indices);
    }

    public bool Equals(TpmsPcrSelection? other) =>
        other is not null && Hash == other.Hash && Indices.SequenceEqual(other.Indices);

    public override int GetHashCode() => HashCode.Combine(Hash, Indices.Count);
}

/// <summary><c>TPML_PCR_SELECTION</c> (Part 2 §10.9.7): at most HASH_COUNT selections, in the order the PCR digest uses.</summary>
public sealed record TpmlPcrSelection(IReadOnlyList<TpmsPcrSelection> Selections)
{
    /// <summary>HASH_COUNT upper bound used for hostile input (the reference TPM supports fewer).</summary>
    public const int MaxCount = 16;

    public static TpmlPcrSelection Empty { get; } = new([]);

    /// <summary>One bank with the given PCR indices.</summary>
    public static TpmlPcrSelection Of(TpmAlgId hash, params int[] indices) =>
        new([new TpmsPcrSelection(hash, indices.Order().Distinct().ToArray())]);

    /// <summary>Every (bank, index) pair in selection order: banks as listed, indices ascending (Part 3 §18.4.1).</summary>
    public IEnumerable<(TpmAlgId Hash, int Index)> Pcrs() =>
        Selections.SelectMany(s => s.Indices.Order().Select(i => (s.Hash, i)));

    public int PcrCount => Selections.Sum(s => s.Indices.Count);

    public void Write(TpmWriter writer)
    {
        writer.WriteUInt32((uint)Selections.Count);
        foreach (var s in Selections)
            s.Write(writer);
    }

    public byte[] ToBytes()
    {
        var w = new TpmWriter(32);
        Write(w);
        return w.ToArray();
    }

    public static TpmlPcrSelection Read(ref TpmReader reader)
    {
        int count = reader.ReadCount(MaxCount, "TPML_PCR_SELECTION");
        var list = new TpmsPcrSelection[count];
        for (int i = 0; i < count; i++)
            list[i] = TpmsPcrSelection.Read(ref reader);
        return new TpmlPcrSelection(list);
    }

    public static TpmlPcrSelection Parse(ReadOnlySpan<byte> bytes)
    {
        var reader = new TpmReader(bytes);
        var value = Read(ref reader);
        reader.ExpectEnd("TPML_PCR_SELECTION");
        return value;
    }

    public bool Equals(TpmlPcrSelection? other) => other is not null && Selections.SequenceEqual(other.Selections);

    public override int GetHashCode() => Selections.Count;

    public override string ToString() =>
        string.Join(" + ", Selections.Select(s => $"{TpmHashAlgorithm.BankName(s.Hash) ?? s.Hash.ToString()}:{string.Join(',', s.Indices)}"));
}
