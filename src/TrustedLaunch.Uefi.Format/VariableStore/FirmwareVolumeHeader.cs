using System.Buffers.Binary;

namespace TrustedLaunch.Uefi.Format.VariableStore;

/// <summary>One <c>EFI_FV_BLOCK_MAP_ENTRY</c>: NumBlocks blocks of Length bytes.</summary>
public readonly record struct FirmwareVolumeBlockMapEntry(uint NumBlocks, uint Length);

/// <summary>
/// <c>EFI_FIRMWARE_VOLUME_HEADER</c> (PI 1.7 Vol. 3 §3.2.1, MdePkg/Include/Pi/PiFirmwareVolume.h) of the NV data volume.
/// </summary>
public sealed record FirmwareVolumeHeader
{
    /// <summary>'_FVH' read as a little-endian UINT32.</summary>
    public const uint FvhSignature = 0x4856465F;

    /// <summary>Offset of the first block-map entry; the fixed part of the header.</summary>
    public const int FixedSize = 0x38;

    /// <summary>OVMF's NV volume attributes: all read/write/lock capabilities and status bits, sticky write, memory mapped,
    /// erase polarity 1, 16-byte alignment (OvmfPkg/Include/Fdf/VarStore.fdf.inc).</summary>
    public const uint OvmfAttributes = 0x0004FEFF;

    public required Guid FileSystemGuid { get; init; }

    public required ulong FvLength { get; init; }

    public required uint Attributes { get; init; }

    public required ushort HeaderLength { get; init; }

    public required ushort Checksum { get; init; }

    public ushort ExtHeaderOffset { get; init; }

    public byte Revision { get; init; } = 2;

    public required IReadOnlyList<FirmwareVolumeBlockMapEntry> BlockMap { get; init; }

    /// <summary>True when the 16-bit words of the header (HeaderLength bytes) sum to zero, as PI §3.2.1 requires.</summary>
    public bool ChecksumValid { get; init; }

    /// <summary>Reads the header at the start of <paramref name="flash"/>; the block map ends at a {0,0} entry.</summary>
    public static FirmwareVolumeHeader Read(ReadOnlySpan<byte> flash)
    {
        if (flash.Length < FixedSize + 8)
            throw new UefiFormatException($"Firmware volume header truncated: {flash.Length} bytes.") { Offset = 0 };
        uint signature = BinaryPrimitives.ReadUInt32LittleEndian(flash[0x28..]);
        if (signature != FvhSignature)
            throw new UefiFormatException($"No firmware volume: signature 0x{signature:X8} at 0x28, expected '_FVH'.") { Offset = 0x28 };
        ushort headerLength = BinaryPrimitives.ReadUInt16LittleEndian(flash[0x30..]);
        if (headerLength < FixedSize + 8 || headerLength > flash.Length || headerLength % 2 != 0)
            throw new UefiFormatException($"Firmware volume HeaderLength 0x{headerLength:X} is impossible for a {flash.Length}-byte file.") { Offset = 0x30 };

        var blocks = new List<FirmwareVolumeBlockMapEntry>();
        for (int at = FixedSize; ; at += 8)
        {
            if (at + 8 > headerLength)
                throw new UefiFormatException("Firmware volume block map has no {0,0} terminator inside HeaderLength.") { Offset = at };
            var entry = new FirmwareVolumeBlockMapEntry(BinaryPrimitives.ReadUInt32LittleEndian(flash[at..]), BinaryPrimitives.ReadUInt32LittleEndian(flash[(at + 4)..]));
            if (entry.NumBlocks == 0 && entry.Length == 0)
                break;
            blocks.Add(entry);
        }

        return new FirmwareVolumeHeader
        {
            FileSystemGuid = new Guid(flash.Slice(0x10, 16)),
            FvLength = BinaryPrimitives.ReadUInt64LittleEndian(flash[0x20..]),
            Attributes = BinaryPrimitives.ReadUInt32LittleEndian(flash[0x2C..]),
            HeaderLength = headerLength,
            Checksum = BinaryPrimitives.ReadUInt16LittleEndian(flash[0x32..]),
            ExtHeaderOffset = BinaryPrimitives.ReadUInt16LittleEndian(flash[0x34..]),
            Revision = flash[0x37],
            BlockMap = blocks,
            ChecksumValid = SumOfWords(flash[..headerLength]) == 0,
        };
    }

    /// <summary>The OVMF NV volume header for a flash file of <paramref name="fileSize"/> bytes in 4 KiB blocks.</summary>
    public static FirmwareVolumeHeader ForOvmf(int fileSize) => new()
    {
        FileSystemGuid = EfiGuids.SystemNvDataFv,
        FvLength = (ulong)fileSize,
        Attributes = OvmfAttributes,
        HeaderLength = FixedSize + 16,
        Checksum = 0,
        BlockMap = [new FirmwareVolumeBlockMapEntry((uint)(fileSize / 0x1000), 0x1000)],
    };

    /// <summary>Writes the header with a freshly computed checksum; returns HeaderLength.</summary>
    public int WriteTo(Span<byte> destination)
    {
        int size = FixedSize + ((BlockMap.Count + 1) * 8);
        if (size != HeaderLength)
            throw new UefiFormatException($"HeaderLength {HeaderLength} does not match a block map of {BlockMap.Count} entries ({size} bytes).");
        if (destination.Length < size)
            throw new ArgumentException($"Destination holds {destination.Length} bytes, {size} needed.", nameof(destination));
        Span<byte> header = destination[..size];
        header.Clear();
        FileSystemGuid.TryWriteBytes(header[0x10..]);
        BinaryPrimitives.WriteUInt64LittleEndian(header[0x20..], FvLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[0x28..], FvhSignature);
        BinaryPrimitives.WriteUInt32LittleEndian(header[0x2C..], Attributes);
        BinaryPrimitives.WriteUInt16LittleEndian(header[0x30..], HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(header[0x34..], ExtHeaderOffset);
        header[0x37] = Revision;
        int at = FixedSize;
        foreach (var entry in BlockMap)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header[at..], entry.NumBlocks);
            BinaryPrimitives.WriteUInt32LittleEndian(header[(at + 4)..], entry.Length);
            at += 8;
        }

        // PI §3.2.1: Checksum makes the UINT16 sum of the whole header zero.
        ushort checksum = (ushort)(0x10000 - SumOfWords(header));
        BinaryPrimitives.WriteUInt16LittleEndian(header[0x32..], checksum);
        return size;
    }

    private static ushort SumOfWords(ReadOnlySpan<byte> header)
    {
        ushort sum = 0;
        for (int i = 0; i + 1 < header.Length; i += 2)
            sum = unchecked((ushort)(sum + BinaryPrimitives.ReadUInt16LittleEndian(header[i..])));
        return sum;
    }
}
