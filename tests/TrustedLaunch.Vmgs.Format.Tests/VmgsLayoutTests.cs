using TrustedLaunch.Vmgs.Format;

namespace TrustedLaunch.Vmgs.Format.Tests;

public class VmgsLayoutTests
{
    [Fact]
    public void Constants_Version1_ArePinned()
    {
        Assert.Equal("544C564D47530D0A", Convert.ToHexString(VmgsLayout.Magic)); // "TLVMGS\r\n"
        Assert.Equal(1, VmgsLayout.FormatVersion);
        Assert.Equal(4096, VmgsLayout.BlockSize);
        Assert.Equal(4096, VmgsLayout.HeaderSlotSize);
        Assert.Equal(8192, VmgsLayout.DataAreaStart);
        Assert.Equal(176, VmgsLayout.HeaderFixedSize);
        Assert.Equal(64, VmgsLayout.EntrySize);
        Assert.Equal(61, VmgsLayout.MaxEntries);
        Assert.Equal(40, VmgsLayout.WrappedDataKeyLength);
        Assert.Equal(42, VmgsEntryAad.Length);
    }

    [Fact]
    public void HeaderOffsets_AreContiguousAndEndAtFixedSize()
    {
        (int Offset, int Size)[] fields =
        [
            (VmgsHeaderOffsets.Magic, 8), (VmgsHeaderOffsets.Version, 2), (VmgsHeaderOffsets.FixedSize, 2),
            (VmgsHeaderOffsets.CoveredLength, 4), (VmgsHeaderOffsets.Sequence, 8), (VmgsHeaderOffsets.FileId, 16),
            (VmgsHeaderOffsets.BlockSize, 4), (VmgsHeaderOffsets.EntryCount, 2), (VmgsHeaderOffsets.Flags, 2),
            (VmgsHeaderOffsets.KeyWrapAlgorithm, 2), (VmgsHeaderOffsets.EntryCipher, 2), (VmgsHeaderOffsets.Reserved, 4),
            (VmgsHeaderOffsets.KekThumbprint, 16), (VmgsHeaderOffsets.WrappedDataKey, 40), (VmgsHeaderOffsets.HeaderMac, 32),
            (VmgsHeaderOffsets.Checksum, 32),
        ];
        int expected = 0;
        foreach (var (offset, size) in fields)
        {
            Assert.Equal(expected, offset);
            expected += size;
        }

        Assert.Equal(VmgsLayout.HeaderFixedSize, expected);
    }

    [Fact]
    public void EntryOffsets_AreContiguousAndEndAtEntrySize()
    {
        (int Offset, int Size)[] fields =
        [
            (VmgsEntryOffsets.Id, 4), (VmgsEntryOffsets.Flags, 4), (VmgsEntryOffsets.Generation, 8), (VmgsEntryOffsets.Offset, 8),
            (VmgsEntryOffsets.Length, 4), (VmgsEntryOffsets.AllocatedLength, 4), (VmgsEntryOffsets.Nonce, 12),
            (VmgsEntryOffsets.Tag, 16), (VmgsEntryOffsets.Reserved, 4),
        ];
        int expected = 0;
        foreach (var (offset, size) in fields)
        {
            Assert.Equal(expected, offset);
            expected += size;
        }

        Assert.Equal(VmgsLayout.EntrySize, expected);
    }

    [Theory]
    [InlineData(VmgsEntryId.UefiNvram, 1u, "uefi-nvram")]
    [InlineData(VmgsEntryId.VTpmState, 2u, "vtpm")]
    [InlineData(VmgsEntryId.VmIdentity, 3u, "identity")]
    [InlineData((VmgsEntryId)77, 77u, "entry-77")]
    public void EntryIds_ValuesAndNames_ArePinnedAndRoundTrip(VmgsEntryId id, uint raw, string name)
    {
        Assert.Equal(raw, (uint)id);
        Assert.Equal(name, VmgsEntryNames.ToName(id));
        Assert.True(VmgsEntryNames.TryParse(name, out VmgsEntryId parsed));
        Assert.Equal(id, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("entry-0")]
    [InlineData("entry-x")]
    [InlineData("UEFI-NVRAM")]
    public void EntryNames_Invalid_AreRejected(string name) => Assert.False(VmgsEntryNames.TryParse(name, out _));

    [Theory]
    [InlineData(0, 4096)]
    [InlineData(1, 4096)]
    [InlineData(4096, 4096)]
    [InlineData(4097, 8192)]
    [InlineData(65536, 65536)]
    public void AllocationFor_RoundsUpToBlocks(int length, int allocated) => Assert.Equal(allocated, VmgsEntry.AllocationFor(length));

    [Fact]
    public void EntryAad_BindsFileIdEntryGenerationAndLength()
    {
        var file = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        byte[] aad = VmgsEntryAad.Build(file, VmgsEntryId.VTpmState, 0x0102030405060708, 0x10000);
        Assert.Equal(
            "544C564D47530D0A" + "0100" + "33221100554477668899AABBCCDDEEFF" + "02000000" + "0807060504030201" + "00000100",
            Convert.ToHexString(aad));
    }
}
