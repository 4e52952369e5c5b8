using System.Buffers.Binary;
using System.Text;

namespace TrustedLaunch.Images.Disk;

/// <summary>One GPT partition.</summary>
public sealed record GptPartition(int Index, Guid Type, Guid Id, long FirstLba, long LastLba, ulong Attributes, string Name)
{
    /// <summary>EFI System Partition type (UEFI 2.10 §5.3.3, Table 5.7).</summary>
    public static readonly Guid EfiSystemPartition = new("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");

    public long Offset => FirstLba * GuidPartitionTable.SectorSize;

    public long Length => (LastLba - FirstLba + 1) * GuidPartitionTable.SectorSize;

    public bool IsEfiSystemPartition => Type == EfiSystemPartition;
}

/// <summary>
/// Writes and reads the GUID Partition Table (UEFI 2.10 §5.3) of a disk image with 512-byte sectors: protective MBR,
/// primary header and entry array at LBA 1-33, and the backup array and header at the end. Written by hand because
/// it is ~150 lines and runs without root, loop devices or sfdisk, deterministically.
/// </summary>
public static class GuidPartitionTable
{
    public const int SectorSize = 512;
    private const int EntryCount = 128;
    private const int EntrySize = 128;
    private const int EntryArraySectors = EntryCount * EntrySize / SectorSize; // 32
    private const int HeaderSize = 92;
    private static readonly byte[] Signature = "EFI PART"u8.ToArray();

    /// <summary>
    /// Lays out a disk of <paramref name="totalSectors"/> with one partition per entry of <paramref name="partitions"/>
    /// (type, id, first LBA, last LBA, name) and writes the table structures into <paramref name="disk"/>.
    /// </summary>
    public static void Write(Stream disk, long totalSectors, Guid diskId, IReadOnlyList<GptPartition> partitions)
    {
        ArgumentNullException.ThrowIfNull(disk);
        ArgumentNullException.ThrowIfNull(partitions);
        long lastUsable = totalSectors - 1 - 1 - EntryArraySectors;
        const long firstUsable = 2 + EntryArraySectors;
        byte[] entries = new byte[EntryCount * EntrySize];
        foreach (GptPartition p in partitions)
        {
            if (p.FirstLba < firstUsable || p.LastLba > lastUsable || p.LastLba < p.FirstLba || p.Index is < 1 or > EntryCount)
                throw new ImageException($"Partition {p.Index} ({p.FirstLba}-{p.LastLba}) is outside the usable area {firstUsable}-{lastUsable}.");
            // UEFI 2.10 §5.3.3 Table 5.6: GPT Partition Entry.
            Span<byte> e = entries.AsSpan((p.Index - 1) * EntrySize, EntrySize);
            p.Type.TryWriteBytes(e[0..16]);
            p.Id.TryWriteBytes(e[16..32]);
            BinaryPrimitives.WriteInt64LittleEndian(e[32..], p.FirstLba);
            BinaryPrimitives.WriteInt64LittleEndian(e[40..], p.LastLba);
            BinaryPrimitives.WriteUInt64LittleEndian(e[48..], p.Attributes);
            Encoding.Unicode.GetBytes(p.Name.Length > 36 ? p.Name[..36] : p.Name, e[56..128]);
        }

        uint entriesCrc = System.IO.Hashing.Crc32.HashToUInt32(entries);
        long backupEntries = totalSectors - 1 - EntryArraySectors;

        // UEFI 2.10 §5.2.3: protective MBR, one partition of type 0xEE covering the disk (capped at 2^32-1 sectors).
        byte[] mbr = new byte[SectorSize];
        Span<byte> record = mbr.AsSpan(446, 16);
        record[1] = 0x00; record[2] = 0x02; record[3] = 0x00; // starting CHS 0/0/2
        record[4] = 0xEE;
        record[5] = 0xFF; record[6] = 0xFF; record[7] = 0xFF; // ending CHS: not representable
        BinaryPrimitives.WriteUInt32LittleEndian(record[8..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(record[12..], (uint)Math.Min(totalSectors - 1, uint.MaxValue));
        mbr[510] = 0x55;
        mbr[511] = 0xAA;

        WriteAt(disk, 0, mbr);
        WriteAt(disk, 1 * SectorSize, Header(1, totalSectors - 1, firstUsable, lastUsable, diskId, 2, entriesCrc));
        WriteAt(disk, 2 * SectorSize, entries);
        WriteAt(disk, backupEntries * SectorSize, entries);
        WriteAt(disk, (totalSectors - 1) * SectorSize, Header(totalSectors - 1, 1, firstUsable, lastUsable, diskId, backupEntries, entriesCrc));
    }

    /// <summary>Reads the partitions from the primary table, checking both CRCs.</summary>
    public static IReadOnlyList<GptPartition> Read(Stream disk, out Guid diskId)
    {
        ArgumentNullException.ThrowIfNull(disk);
        byte[] header = ReadAt(disk, SectorSize, SectorSize);
        if (!header.AsSpan(0, 8).SequenceEqual(Signature))
            throw new ImageException("No GPT on this disk (LBA 1 lacks the \"EFI PART\" signature).");
        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12));
        if (headerSize is < HeaderSize or > SectorSize)
            throw new ImageException($"GPT header size {headerSize} is invalid.");
        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(16));
        byte[] check = header.AsSpan(0, (int)headerSize).ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(check.AsSpan(16), 0);
        if (System.IO.Hashing.Crc32.HashToUInt32(check) != storedCrc)
            throw new ImageException("GPT header CRC32 does not match.");
        diskId = new Guid(header.AsSpan(56, 16));
        long entriesLba = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(72));
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(80));
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(84));
        if (count > 1024 || size is < 128 or > 1024 || entriesLba < 2 || entriesLba * SectorSize > disk.Length)
            throw new ImageException($"GPT entry array ({count} × {size} at LBA {entriesLba}) is implausible.");
        byte[] entries = ReadAt(disk, entriesLba * SectorSize, (int)(count * size));
        if (System.IO.Hashing.Crc32.HashToUInt32(entries) != BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(88)))
            throw new ImageException("GPT partition entry array CRC32 does not match.");

        var partitions = new List<GptPartition>();
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> e = entries.AsSpan(i * (int)size, (int)size);
            var type = new Guid(e[0..16]);
            if (type == Guid.Empty)
                continue;
            string name = Encoding.Unicode.GetString(e[56..128]).TrimEnd('\0');
            partitions.Add(new GptPartition(i + 1, type, new Guid(e[16..32]), BinaryPrimitives.ReadInt64LittleEndian(e[32..]),
                BinaryPrimitives.ReadInt64LittleEndian(e[40..]), BinaryPrimitives.ReadUInt64LittleEndian(e[48..]), name));
        }

        return partitions;
    }

    private static byte[] Header(long myLba, long alternateLba, long firstUsable, long lastUsable, Guid diskId, long entriesLba, uint entriesCrc)
    {
        // UEFI 2.10 §5.3.2 Table 5.5: GPT Header; revision 1.0; CRC over HeaderSize bytes with the CRC field zero.
        byte[] h = new byte[SectorSize];
        Signature.CopyTo(h, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(8), 0x00010000);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(12), HeaderSize);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(24), myLba);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(32), alternateLba);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(40), firstUsable);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(48), lastUsable);
        diskId.TryWriteBytes(h.AsSpan(56, 16));
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(72), entriesLba);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(80), EntryCount);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(84), EntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(88), entriesCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(16), System.IO.Hashing.Crc32.HashToUInt32(h.AsSpan(0, HeaderSize)));
        return h;
    }

    private static void WriteAt(Stream disk, long offset, ReadOnlySpan<byte> data)
    {
        disk.Position = offset;
        disk.Write(data);
    }

    private static byte[] ReadAt(Stream disk, long offset, int length)
    {
        if (offset < 0 || offset + length > disk.Length)
            throw new ImageException($"The disk is too small: {length} bytes at {offset} are past its end ({disk.Length}).");
        byte[] buffer = new byte[length];
        disk.Position = offset;
        disk.ReadExactly(buffer);
        return buffer;
    }
}
