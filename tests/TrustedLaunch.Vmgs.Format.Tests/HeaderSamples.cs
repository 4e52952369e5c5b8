using System.Security.Cryptography;
using TrustedLaunch.Vmgs.Format;

namespace TrustedLaunch.Vmgs.Format.Tests;

/// <summary>Well-formed headers for tests, and a way to re-checksum a deliberately edited slot.</summary>
internal static class HeaderSamples
{
    public static VmgsEntry Entry(VmgsEntryId id, long offset, int length, ulong generation = 2) => new()
    {
        Id = id,
        Generation = generation,
        Offset = offset,
        Length = length,
        AllocatedLength = VmgsEntry.AllocationFor(length),
        Nonce = Enumerable.Range(1, 12).Select(i => (byte)i).ToArray(),
        Tag = Enumerable.Range(100, 16).Select(i => (byte)i).ToArray(),
    };

    public static VmgsHeader TwoEntries() => new()
    {
        Sequence = 7,
        FileId = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff"),
        KekThumbprint = Enumerable.Repeat((byte)0xAB, 16).ToArray(),
        WrappedDataKey = Enumerable.Repeat((byte)0xCD, 40).ToArray(),
        HeaderMac = Enumerable.Repeat((byte)0xEF, 32).ToArray(),
        Entries =
        [
            Entry(VmgsEntryId.UefiNvram, 8192, 540_672, generation: 3),
            Entry(VmgsEntryId.VTpmState, 8192 + 540_672, 65_536, generation: 7),
        ],
    };

    /// <summary>Recomputes the checksum after a test edited the slot, so only the structural rules can object.</summary>
    public static byte[] Rechecksum(byte[] slot)
    {
        int covered = BitConverter.ToInt32(slot, VmgsHeaderOffsets.CoveredLength);
        covered = Math.Clamp(covered, VmgsLayout.HeaderFixedSize, slot.Length);
        Array.Clear(slot, VmgsHeaderOffsets.Checksum, VmgsLayout.ChecksumLength);
        SHA256.HashData(slot.AsSpan(0, covered), slot.AsSpan(VmgsHeaderOffsets.Checksum, VmgsLayout.ChecksumLength));
        return slot;
    }
}
