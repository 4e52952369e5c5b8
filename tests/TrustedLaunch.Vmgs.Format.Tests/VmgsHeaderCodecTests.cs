using System.Buffers.Binary;
using TrustedLaunch.Vmgs.Format;

namespace TrustedLaunch.Vmgs.Format.Tests;

public class VmgsHeaderCodecTests
{
    [Fact]
    public void Encode_ThenRead_RoundTripsEveryField()
    {
        VmgsHeader header = HeaderSamples.TwoEntries();
        byte[] slot = VmgsHeaderCodec.Encode(header);
        Assert.Equal(VmgsLayout.HeaderSlotSize, slot.Length);
        VmgsHeader read = VmgsHeaderCodec.Read(slot);
        Assert.Equal(header.Sequence, read.Sequence);
        Assert.Equal(header.FileId, read.FileId);
        Assert.Equal(header.KekThumbprint.ToArray(), read.KekThumbprint.ToArray());
        Assert.Equal(header.WrappedDataKey.ToArray(), read.WrappedDataKey.ToArray());
        Assert.Equal(header.HeaderMac.ToArray(), read.HeaderMac.ToArray());
        Assert.Equal(2, read.Entries.Count);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(header.Entries[i].Id, read.Entries[i].Id);
            Assert.Equal(header.Entries[i].Generation, read.Entries[i].Generation);
            Assert.Equal(header.Entries[i].Offset, read.Entries[i].Offset);
            Assert.Equal(header.Entries[i].Length, read.Entries[i].Length);
            Assert.Equal(header.Entries[i].AllocatedLength, read.Entries[i].AllocatedLength);
            Assert.Equal(header.Entries[i].Nonce.ToArray(), read.Entries[i].Nonce.ToArray());
            Assert.Equal(header.Entries[i].Tag.ToArray(), read.Entries[i].Tag.ToArray());
        }
    }

    [Fact]
    public void Encode_FieldsSitAtTheDocumentedOffsets()
    {
        byte[] slot = VmgsHeaderCodec.Encode(HeaderSamples.TwoEntries());
        Assert.Equal("TLVMGS\r\n"u8.ToArray(), slot[..8]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(slot.AsSpan(VmgsHeaderOffsets.Version)));
        Assert.Equal(176, BinaryPrimitives.ReadUInt16LittleEndian(slot.AsSpan(VmgsHeaderOffsets.FixedSize)));
        Assert.Equal(176u + 128u, BinaryPrimitives.ReadUInt32LittleEndian(slot.AsSpan(VmgsHeaderOffsets.CoveredLength)));
        Assert.Equal(7ul, BinaryPrimitives.ReadUInt64LittleEndian(slot.AsSpan(VmgsHeaderOffsets.Sequence)));
        Assert.Equal(4096u, BinaryPrimitives.ReadUInt32LittleEndian(slot.AsSpan(VmgsHeaderOffsets.BlockSize)));
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(slot.AsSpan(VmgsHeaderOffsets.EntryCount)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(slot.AsSpan(VmgsHeaderOffsets.KeyWrapAlgorithm)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(slot.AsSpan(VmgsHeaderOffsets.EntryCipher)));
        Assert.Equal(0xAB, slot[VmgsHeaderOffsets.KekThumbprint]);
        Assert.Equal(0xCD, slot[VmgsHeaderOffsets.WrappedDataKey + 39]);
        int row = VmgsLayout.HeaderFixedSize + VmgsLayout.EntrySize; // second row: vTPM
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(slot.AsSpan(row + VmgsEntryOffsets.Id)));
        Assert.Equal(8192ul + 540_672ul, BinaryPrimitives.ReadUInt64LittleEndian(slot.AsSpan(row + VmgsEntryOffsets.Offset)));
        Assert.Equal(65536u, BinaryPrimitives.ReadUInt32LittleEndian(slot.AsSpan(row + VmgsEntryOffsets.Length)));
        Assert.True(slot.AsSpan(176 + 128).IndexOfAnyExcept((byte)0) < 0, "bytes after the table are zero");
    }

    [Fact]
    public void Read_ChecksumFlip_ThrowsIntegrityNotFormat()
    {
        byte[] slot = VmgsHeaderCodec.Encode(HeaderSamples.TwoEntries());
        slot[VmgsHeaderOffsets.Sequence] ^= 1;
        var e = Assert.Throws<VmgsIntegrityException>(() => VmgsHeaderCodec.Read(slot));
        Assert.Contains("checksum", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, int, byte[]> MalformedEdits() => new()
    {
        { "magic", 0, "XLVMGS\r\n"u8.ToArray() },
        { "version 2", VmgsHeaderOffsets.Version, [2, 0] },
        { "fixed size", VmgsHeaderOffsets.FixedSize, [200, 0] },
        { "covered length beyond slot", VmgsHeaderOffsets.CoveredLength, [0, 0x20, 0, 0] },
        { "block size", VmgsHeaderOffsets.BlockSize, [0, 2, 0, 0] },
        { "entry count disagrees", VmgsHeaderOffsets.EntryCount, [3, 0] },
        { "unknown flags", VmgsHeaderOffsets.Flags, [1, 0] },
        { "key wrap", VmgsHeaderOffsets.KeyWrapAlgorithm, [9, 0] },
        { "cipher", VmgsHeaderOffsets.EntryCipher, [9, 0] },
        { "sequence zero", VmgsHeaderOffsets.Sequence, [0, 0, 0, 0, 0, 0, 0, 0] },
        { "entry id zero", 176 + VmgsEntryOffsets.Id, [0, 0, 0, 0] },
        { "ids out of order", 176 + VmgsEntryOffsets.Id, [5, 0, 0, 0] },
        { "generation above sequence", 176 + VmgsEntryOffsets.Generation, [8, 0, 0, 0, 0, 0, 0, 0] },
        { "offset in header area", 176 + VmgsEntryOffsets.Offset, [0, 0x10, 0, 0, 0, 0, 0, 0] },
        { "offset unaligned", 176 + VmgsEntryOffsets.Offset, [1, 0x20, 0, 0, 0, 0, 0, 0] },
        { "length above allocation", 176 + VmgsEntryOffsets.Length, [0, 0, 0x10, 0] },
        { "allocation not blocks", 176 + VmgsEntryOffsets.AllocatedLength, [1, 0x40, 8, 0] },
        { "extents overlap", 176 + 64 + VmgsEntryOffsets.Offset, [0, 0x40, 0, 0, 0, 0, 0, 0] },
        { "entry reserved", 176 + VmgsEntryOffsets.Reserved, [1, 0, 0, 0] },
    };

    [Theory]
    [MemberData(nameof(MalformedEdits))]
    public void Read_StructuralViolationWithValidChecksum_ThrowsFormat(string label, int offset, byte[] bytes)
    {
        byte[] slot = VmgsHeaderCodec.Encode(HeaderSamples.TwoEntries());
        bytes.CopyTo(slot, offset);
        HeaderSamples.Rechecksum(slot);
        var e = Assert.Throws<VmgsFormatException>(() => VmgsHeaderCodec.Read(slot));
        Assert.False(string.IsNullOrWhiteSpace(e.Message), label);
    }

    [Fact]
    public void Read_AllZeroSlot_ThrowsFormatSayingEmpty()
    {
        var e = Assert.Throws<VmgsFormatException>(() => VmgsHeaderCodec.Read(new byte[4096]));
        Assert.Contains("empty", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TruncatedAtEveryOffset_ThrowsOnlyVmgsExceptions()
    {
        byte[] slot = VmgsHeaderCodec.Encode(HeaderSamples.TwoEntries());
        int covered = VmgsHeaderCodec.Read(slot).CoveredLength;
        for (int length = 0; length < covered; length++)
        {
            Exception? e = Record.Exception(() => VmgsHeaderCodec.Read(slot.AsSpan(0, length)));
            Assert.True(e is VmgsException, $"length {length}: {e?.GetType().Name ?? "no exception"}");
        }
    }

    [Fact]
    public void Read_EveryBitFlipInCoveredBytes_IsDetected()
    {
        byte[] original = VmgsHeaderCodec.Encode(HeaderSamples.TwoEntries());
        int covered = VmgsHeaderCodec.Read(original).CoveredLength;
        for (int bit = 0; bit < covered * 8; bit++)
        {
            byte[] slot = (byte[])original.Clone();
            slot[bit / 8] ^= (byte)(1 << (bit % 8));
            Exception? e = Record.Exception(() => VmgsHeaderCodec.Read(slot));
            Assert.True(e is VmgsException, $"bit {bit}: {e?.GetType().Name ?? "accepted"}");
        }
    }

    [Fact]
    public void Read_RandomGarbageWithValidChecksum_ThrowsOnlyVmgsExceptions()
    {
        var random = new Random(5);
        for (int i = 0; i < 2000; i++)
        {
            byte[] slot = VmgsHeaderCodec.Encode(HeaderSamples.TwoEntries());
            for (int k = 0; k < 4; k++)
                slot[random.Next(8, 176 + 128)] = (byte)random.Next(256);
            HeaderSamples.Rechecksum(slot);
            Exception? e = Record.Exception(() => VmgsHeaderCodec.Read(slot));
            Assert.True(e is null or VmgsException, $"case {i}: {e}");
        }
    }

    [Fact]
    public void EnsureExtentsWithin_ShortFile_ThrowsFormatNamingEntry()
    {
        VmgsHeader header = HeaderSamples.TwoEntries();
        header.EnsureExtentsWithin(8192 + 540_672 + 65_536);
        var e = Assert.Throws<VmgsFormatException>(() => header.EnsureExtentsWithin(8192 + 540_672 + 100));
        Assert.Contains("vtpm", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MacInput_ExcludesMacAndChecksum()
    {
        VmgsHeader header = HeaderSamples.TwoEntries();
        byte[] a = VmgsHeaderCodec.MacInput(header);
        byte[] b = VmgsHeaderCodec.MacInput(header with { HeaderMac = new byte[32] });
        Assert.Equal(a, b);
        Assert.Equal(header.CoveredLength, a.Length);
        Assert.NotEqual(a, VmgsHeaderCodec.MacInput(header with { Sequence = 8 }));
    }
}
