using System.Buffers.Binary;

namespace TrustedLaunch.Tpm.Protocol;

/// <summary>
/// The PCR file <c>tpm2_quote -o</c> writes and <c>tpm2_checkquote -f</c> reads (tpm2-tools <c>lib/pcr.c</c>,
/// <c>pcr_fwrite_serialized</c>): the tss2 C structures dumped in host (little-endian) layout, not TPM marshalling —
/// TPML_PCR_SELECTION (UINT32 count, 16 × TPMS_PCR_SELECTION of 8 bytes: UINT16 hash, UINT8 sizeofSelect,
/// BYTE[4] pcrSelect, 1 pad), UINT32 number of TPML_DIGEST, then that many TPML_DIGEST
/// (UINT32 count, 8 × TPM2B_DIGEST of UINT16 size + 64 bytes). Digests follow the selection order.
/// </summary>
public static class Tpm2ToolsPcrFile
{
    private const int Banks = 16;          // TPM2_NUM_PCR_BANKS
    private const int SelectionSize = 8;   // sizeof(TPMS_PCR_SELECTION) with its pad byte
    private const int SelectionListSize = 4 + (Banks * SelectionSize);
    private const int DigestSize = 2 + 64; // sizeof(TPM2B_DIGEST)
    private const int DigestListSize = 4 + (8 * DigestSize);
    private const int MaxDigestLists = 64;

    /// <summary>Parses the file into the selection and a value per (bank, index).</summary>
    public static (TpmlPcrSelection Selection, Dictionary<(TpmAlgId Hash, int Index), byte[]> Values) Parse(ReadOnlySpan<byte> file)
    {
        if (file.Length < SelectionListSize + 4)
            throw new TpmFormatException($"PCR file of {file.Length} bytes is shorter than its {SelectionListSize + 4}-byte header.") { Offset = file.Length };
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(file);
        if (count > Banks)
            throw new TpmFormatException($"PCR file selects {count} banks; at most {Banks}.") { Offset = 0 };
        var selections = new List<TpmsPcrSelection>();
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> s = file.Slice(4 + (i * SelectionSize), SelectionSize);
            var hash = (TpmAlgId)BinaryPrimitives.ReadUInt16LittleEndian(s);
            int size = s[2];
            if (size > TpmsPcrSelection.MaxSelectBytes)
                throw new TpmFormatException($"PCR file selection {i} has sizeofSelect {size}.") { Offset = 4 + (i * SelectionSize) + 2 };
            var indices = new List<int>();
            for (int bit = 0; bit < size * 8; bit++)
            {
                if ((s[3 + (bit / 8)] & (1 << (bit % 8))) != 0)
                    indices.Add(bit);
            }

            selections.Add(new TpmsPcrSelection(hash, indices));
        }

        var selection = new TpmlPcrSelection(selections);
        uint lists = BinaryPrimitives.ReadUInt32LittleEndian(file[SelectionListSize..]);
        if (lists > MaxDigestLists || (long)SelectionListSize + 4 + (lists * (long)DigestListSize) > file.Length)
            throw new TpmFormatException($"PCR file announces {lists} digest lists but holds {file.Length} bytes.") { Offset = SelectionListSize };
        var digests = new List<byte[]>();
        for (int l = 0; l < lists; l++)
        {
            int at = SelectionListSize + 4 + (l * DigestListSize);
            uint n = BinaryPrimitives.ReadUInt32LittleEndian(file[at..]);
            if (n > 8)
                throw new TpmFormatException($"PCR file digest list {l} holds {n} digests; at most 8.") { Offset = at };
            for (int d = 0; d < n; d++)
            {
                ReadOnlySpan<byte> entry = file.Slice(at + 4 + (d * DigestSize), DigestSize);
                int size = BinaryPrimitives.ReadUInt16LittleEndian(entry);
                if (size > 64)
                    throw new TpmFormatException($"PCR file digest of {size} bytes.") { Offset = at + 4 + (d * DigestSize) };
                digests.Add(entry.Slice(2, size).ToArray());
            }
        }

        var pcrs = selection.Pcrs().ToList();
        if (digests.Count != pcrs.Count)
            throw new TpmFormatException($"PCR file selects {pcrs.Count} PCRs but holds {digests.Count} digests.") { Offset = SelectionListSize };
        var values = new Dictionary<(TpmAlgId, int), byte[]>();
        for (int i = 0; i < pcrs.Count; i++)
        {
            int expected = TpmHashAlgorithm.DigestSize(pcrs[i].Hash);
            if (expected != 0 && digests[i].Length != expected)
                throw new TpmFormatException($"PCR {pcrs[i].Index} of bank {pcrs[i].Hash} has a {digests[i].Length}-byte value.");
            values[pcrs[i]] = digests[i];
        }

        return (selection, values);
    }

    /// <summary>Writes the same layout, for handing our PCR values to tpm2_checkquote.</summary>
    public static byte[] Write(TpmlPcrSelection selection, IReadOnlyDictionary<(TpmAlgId Hash, int Index), byte[]> values)
    {
        ArgumentNullException.ThrowIfNull(selection);
        ArgumentNullException.ThrowIfNull(values);
        var pcrs = selection.Pcrs().ToList();
        int lists = (pcrs.Count + 7) / 8;
        var file = new byte[SelectionListSize + 4 + (lists * DigestListSize)];
        BinaryPrimitives.WriteUInt32LittleEndian(file, (uint)selection.Selections.Count);
        for (int i = 0; i < selection.Selections.Count; i++)
        {
            var s = selection.Selections[i];
            Span<byte> entry = file.AsSpan(4 + (i * SelectionSize), SelectionSize);
            BinaryPrimitives.WriteUInt16LittleEndian(entry, (ushort)s.Hash);
            entry[2] = TpmsPcrSelection.PcClientSelectBytes;
            foreach (int index in s.Indices)
                entry[3 + (index / 8)] |= (byte)(1 << (index % 8));
        }

        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(SelectionListSize), (uint)lists);
        for (int i = 0; i < pcrs.Count; i++)
        {
            int at = SelectionListSize + 4 + ((i / 8) * DigestListSize);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(at), (uint)Math.Min(8, pcrs.Count - (i / 8 * 8)));
            byte[] value = values[pcrs[i]];
            Span<byte> entry = file.AsSpan(at + 4 + ((i % 8) * DigestSize), DigestSize);
            BinaryPrimitives.WriteUInt16LittleEndian(entry, (ushort)value.Length);
            value.CopyTo(entry[2..]);
        }

        return file;
    }
}
