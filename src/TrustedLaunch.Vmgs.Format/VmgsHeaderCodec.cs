using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using static TrustedLaunch.Vmgs.Format.VmgsLayout;

namespace TrustedLaunch.Vmgs.Format;

/// <summary>
/// Encodes and decodes one header slot (docs/vmgs.md §2–3). Decoding checks, in this order: size and magic
/// (malformed), the SHA-256 checksum (integrity: a torn or corrupted copy), then every structural rule
/// (malformed). The checksum comes before the structural rules so that a torn write reports as corrupt,
/// while a copy whose checksum is right but whose content breaks the rules was written that way: malformed.
/// </summary>
public static class VmgsHeaderCodec
{
    /// <summary>Decodes a header slot or throws <see cref="VmgsFormatException"/> / <see cref="VmgsIntegrityException"/>.</summary>
    public static VmgsHeader Read(ReadOnlySpan<byte> slot)
    {
        if (!TryRead(slot, out VmgsHeader? header, out VmgsException? error))
            throw error;
        return header;
    }

    /// <summary>Decodes a header slot; on failure says why without throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> slot, [NotNullWhen(true)] out VmgsHeader? header, [NotNullWhen(false)] out VmgsException? error)
    {
        header = null;
        error = Check(slot, out int covered);
        if (error is not null)
            return false;
        try
        {
            header = Decode(slot[..covered]);
            return true;
        }
        catch (VmgsFormatException e)
        {
            error = e;
            return false;
        }
    }

    /// <summary>Encodes <paramref name="header"/> into a full slot with its checksum; the MAC is taken as given.</summary>
    public static byte[] Encode(VmgsHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        byte[] slot = EncodeUnchecked(header, header.HeaderMac.Span);
        Span<byte> covered = slot.AsSpan(0, header.CoveredLength);
        SHA256.HashData(covered, covered.Slice(VmgsHeaderOffsets.Checksum, ChecksumLength));
        return slot;
    }

    /// <summary>The bytes the header MAC covers: the encoded header with the MAC and checksum fields zero.</summary>
    public static byte[] MacInput(VmgsHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        return EncodeUnchecked(header, new byte[HeaderMacLength]).AsSpan(0, header.CoveredLength).ToArray();
    }

    private static VmgsException? Check(ReadOnlySpan<byte> slot, out int covered)
    {
        covered = 0;
        if (slot.Length < HeaderFixedSize)
            return new VmgsFormatException($"The header is truncated: {slot.Length} bytes, a header needs at least {HeaderFixedSize}.");
        if (!slot[..Magic.Length].SequenceEqual(Magic))
        {
            return slot[..HeaderFixedSize].IndexOfAnyExcept((byte)0) < 0
                ? new VmgsFormatException("The header slot is empty (all zero).")
                : new VmgsFormatException("Not a TrustedLaunch VMGS header (magic is not \"TLVMGS\\r\\n\").");
        }

        uint coveredLength = BinaryPrimitives.ReadUInt32LittleEndian(slot[VmgsHeaderOffsets.CoveredLength..]);
        if (coveredLength < HeaderFixedSize || coveredLength > HeaderSlotSize || coveredLength > slot.Length)
            return new VmgsFormatException($"The header claims {coveredLength} bytes; it must be between {HeaderFixedSize} and {Math.Min(HeaderSlotSize, slot.Length)}.");
        covered = (int)coveredLength;

        Span<byte> expected = stackalloc byte[ChecksumLength];
        byte[] copy = slot[..covered].ToArray();
        copy.AsSpan(VmgsHeaderOffsets.Checksum, ChecksumLength).Clear();
        SHA256.HashData(copy, expected);
        if (!expected.SequenceEqual(slot.Slice(VmgsHeaderOffsets.Checksum, ChecksumLength)))
            return new VmgsIntegrityException("The header checksum does not match its content (torn write or corruption).");
        return null;
    }

    private static VmgsHeader Decode(ReadOnlySpan<byte> covered)
    {
        var reader = new LittleEndianReader(covered[Magic.Length..]);
        ushort version = reader.ReadUInt16();
        if (version != FormatVersion)
            throw new VmgsFormatException($"VMGS format version {version} is not supported; this build reads version {FormatVersion}.");
        ushort fixedSize = reader.ReadUInt16();
        if (fixedSize != HeaderFixedSize)
            throw new VmgsFormatException($"The header's fixed part is {fixedSize} bytes; version {FormatVersion} defines {HeaderFixedSize}.");
        _ = reader.ReadUInt32(); // covered length, checked in Check
        ulong sequence = reader.ReadUInt64();
        var fileId = new Guid(reader.ReadBytes(16));
        uint blockSize = reader.ReadUInt32();
        if (blockSize != BlockSize)
            throw new VmgsFormatException($"Block size {blockSize} is not supported; version {FormatVersion} uses {BlockSize}.");
        ushort count = reader.ReadUInt16();
        if (count > MaxEntries || covered.Length != HeaderFixedSize + (count * EntrySize))
            throw new VmgsFormatException($"The file table claims {count} entries in {covered.Length - HeaderFixedSize} bytes (at most {MaxEntries} entries of {EntrySize} bytes).");
        ushort flags = reader.ReadUInt16();
        if (flags != 0)
            throw new VmgsFormatException($"Unknown header flags 0x{flags:X4}.");
        var wrap = (VmgsKeyWrapAlgorithm)reader.ReadUInt16();
        if (wrap != VmgsKeyWrapAlgorithm.Aes256KeyWrapPadded)
            throw new VmgsFormatException($"Unknown key-wrap algorithm {(ushort)wrap}.");
        var cipher = (VmgsEntryCipher)reader.ReadUInt16();
        if (cipher != VmgsEntryCipher.Aes256Gcm)
            throw new VmgsFormatException($"Unknown entry cipher {(ushort)cipher}.");
        if (reader.ReadUInt32() != 0)
            throw new VmgsFormatException("Reserved header bytes 52..55 are not zero.");
        byte[] thumbprint = reader.ReadBytes(KekThumbprintLength).ToArray();
        byte[] wrapped = reader.ReadBytes(WrappedDataKeyLength).ToArray();
        byte[] mac = reader.ReadBytes(HeaderMacLength).ToArray();
        if (sequence == 0)
            throw new VmgsFormatException("Header sequence 0 is reserved.");

        var entries = new VmgsEntry[count];
        for (int i = 0; i < count; i++)
            entries[i] = DecodeEntry(covered.Slice(HeaderFixedSize + (i * EntrySize), EntrySize), sequence);
        CheckTable(entries);
        return new VmgsHeader
        {
            Sequence = sequence,
            FileId = fileId,
            KeyWrapAlgorithm = wrap,
            EntryCipher = cipher,
            KekThumbprint = thumbprint,
            WrappedDataKey = wrapped,
            HeaderMac = mac,
            Entries = entries,
        };
    }

    private static VmgsEntry DecodeEntry(ReadOnlySpan<byte> row, ulong sequence)
    {
        var reader = new LittleEndianReader(row);
        var id = (VmgsEntryId)reader.ReadUInt32();
        uint flags = reader.ReadUInt32();
        ulong generation = reader.ReadUInt64();
        ulong offset = reader.ReadUInt64();
        uint length = reader.ReadUInt32();
        uint allocated = reader.ReadUInt32();
        byte[] nonce = reader.ReadBytes(NonceLength).ToArray();
        byte[] tag = reader.ReadBytes(TagLength).ToArray();
        uint reserved = reader.ReadUInt32();
        string name = VmgsEntryNames.ToName(id);
        if (id == 0)
            throw new VmgsFormatException("Entry id 0 is reserved.");
        if (flags != 0 || reserved != 0)
            throw new VmgsFormatException($"Entry {name} has unknown flags or non-zero reserved bytes.");
        if (generation == 0 || generation > sequence)
            throw new VmgsFormatException($"Entry {name} has generation {generation}, outside 1..{sequence} (the header's sequence).");
        // Offsets are bounded far below long.MaxValue so that offset + allocated cannot overflow.
        if (offset < DataAreaStart || offset % BlockSize != 0 || offset > (1UL << 48))
            throw new VmgsFormatException($"Entry {name} starts at {offset}: not a block-aligned offset in the data area.");
        if (allocated == 0 || allocated % BlockSize != 0 || allocated > (uint)VmgsEntry.AllocationFor(MaxEntryLength))
            throw new VmgsFormatException($"Entry {name} has allocated size {allocated}: not a positive multiple of {BlockSize} within the entry limit.");
        if (length > allocated)
            throw new VmgsFormatException($"Entry {name} is {length} bytes long but only {allocated} are allocated.");
        return new VmgsEntry
        {
            Id = id,
            Generation = generation,
            Offset = (long)offset,
            Length = (int)length,
            AllocatedLength = (int)allocated,
            Nonce = nonce,
            Tag = tag,
        };
    }

    private static void CheckTable(VmgsEntry[] entries)
    {
        for (int i = 1; i < entries.Length; i++)
        {
            if ((uint)entries[i].Id <= (uint)entries[i - 1].Id)
                throw new VmgsFormatException($"The file table is not strictly ordered by id (entry {VmgsEntryNames.ToName(entries[i].Id)} at row {i}).");
        }

        VmgsEntry[] byOffset = [.. entries.OrderBy(e => e.Offset)];
        for (int i = 1; i < byOffset.Length; i++)
        {
            if (byOffset[i].Offset < byOffset[i - 1].End)
                throw new VmgsFormatException($"Entries {VmgsEntryNames.ToName(byOffset[i - 1].Id)} and {VmgsEntryNames.ToName(byOffset[i].Id)} overlap.");
        }
    }

    private static byte[] EncodeUnchecked(VmgsHeader header, ReadOnlySpan<byte> mac)
    {
        if (header.Entries.Count > MaxEntries)
            throw new ArgumentException($"A header holds at most {MaxEntries} entries.", nameof(header));
        if (header.KekThumbprint.Length != KekThumbprintLength || header.WrappedDataKey.Length != WrappedDataKeyLength || mac.Length != HeaderMacLength)
            throw new ArgumentException("Key metadata has the wrong length.", nameof(header));
        var slot = new byte[HeaderSlotSize];
        Span<byte> s = slot;
        Magic.CopyTo(s);
        BinaryPrimitives.WriteUInt16LittleEndian(s[VmgsHeaderOffsets.Version..], FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(s[VmgsHeaderOffsets.FixedSize..], HeaderFixedSize);
        BinaryPrimitives.WriteUInt32LittleEndian(s[VmgsHeaderOffsets.CoveredLength..], (uint)header.CoveredLength);
        BinaryPrimitives.WriteUInt64LittleEndian(s[VmgsHeaderOffsets.Sequence..], header.Sequence);
        header.FileId.TryWriteBytes(s[VmgsHeaderOffsets.FileId..]);
        BinaryPrimitives.WriteUInt32LittleEndian(s[VmgsHeaderOffsets.BlockSize..], BlockSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[VmgsHeaderOffsets.EntryCount..], (ushort)header.Entries.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(s[VmgsHeaderOffsets.KeyWrapAlgorithm..], (ushort)header.KeyWrapAlgorithm);
        BinaryPrimitives.WriteUInt16LittleEndian(s[VmgsHeaderOffsets.EntryCipher..], (ushort)header.EntryCipher);
        header.KekThumbprint.Span.CopyTo(s[VmgsHeaderOffsets.KekThumbprint..]);
        header.WrappedDataKey.Span.CopyTo(s[VmgsHeaderOffsets.WrappedDataKey..]);
        mac.CopyTo(s[VmgsHeaderOffsets.HeaderMac..]);
        int row = HeaderFixedSize;
        foreach (VmgsEntry entry in header.Entries)
        {
            Span<byte> r = s.Slice(row, EntrySize);
            BinaryPrimitives.WriteUInt32LittleEndian(r[VmgsEntryOffsets.Id..], (uint)entry.Id);
            BinaryPrimitives.WriteUInt64LittleEndian(r[VmgsEntryOffsets.Generation..], entry.Generation);
            BinaryPrimitives.WriteUInt64LittleEndian(r[VmgsEntryOffsets.Offset..], (ulong)entry.Offset);
            BinaryPrimitives.WriteUInt32LittleEndian(r[VmgsEntryOffsets.Length..], (uint)entry.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(r[VmgsEntryOffsets.AllocatedLength..], (uint)entry.AllocatedLength);
            entry.Nonce.Span.CopyTo(r[VmgsEntryOffsets.Nonce..]);
            entry.Tag.Span.CopyTo(r[VmgsEntryOffsets.Tag..]);
            row += EntrySize;
        }

        return slot;
    }
}
