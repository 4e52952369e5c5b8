using System.Buffers.Binary;

namespace TrustedLaunch.Images.Disk;

/// <summary>
/// A BIOS boot disk as GRUB's <c>grub-bios-setup</c> lays it out, written by hand (no root, no loop device, no device map):
/// sector 0 is GRUB's <c>boot.img</c> with the disk's MBR partition table, GRUB's <c>core.img</c> is embedded in the gap
/// from sector 1 up to the first partition (LBA 2048, as <c>grub-install</c> embeds it), and one primary FAT partition
/// holds the kernel and initramfs. The layout of <c>boot.img</c> and <c>diskboot.img</c> is GRUB 2.06's
/// (include/grub/i386/pc/boot.h, util/setup.c).
/// </summary>
public static class MasterBootRecord
{
    public const int SectorSize = 512;

    // include/grub/i386/pc/boot.h.
    private const int KernelSectorOffset = 0x5C;       // GRUB_BOOT_MACHINE_KERNEL_SECTOR: 64-bit LBA of core.img's first sector
    private const int DriveCheckOffset = 0x66;         // GRUB_BOOT_MACHINE_DRIVE_CHECK: the jump that trusts a floppy drive number
    private const int WindowsNtMagicOffset = 0x1B8;    // GRUB_BOOT_MACHINE_WINDOWS_NT_MAGIC: boot code ends here
    private const int PartitionTableOffset = 0x1BE;    // GRUB_BOOT_MACHINE_PART_START
    private const int BlocklistSize = 12;              // struct grub_pc_bios_boot_blocklist { u64 start; u16 len; u16 segment; }

    /// <summary>FAT32 with LBA addressing (0x0C): what the partition table says the partition holds.</summary>
    public const byte Fat32Lba = 0x0C;

    /// <summary>
    /// Writes sector 0 (boot code from <paramref name="bootImage"/>, one bootable partition from <paramref name="firstLba"/> for
    /// <paramref name="sectorCount"/> sectors) and <paramref name="coreImage"/> from sector 1 into <paramref name="disk"/>.
    /// </summary>
    /// <exception cref="ImageException">The GRUB images are not GRUB's (sizes) or core.img does not fit before the partition.</exception>
    public static void Write(Stream disk, ReadOnlySpan<byte> bootImage, ReadOnlySpan<byte> coreImage, long firstLba, long sectorCount, byte partitionType = Fat32Lba)
    {
        ArgumentNullException.ThrowIfNull(disk);
        if (bootImage.Length != SectorSize)
            throw new ImageException($"boot.img is {bootImage.Length} bytes; GRUB's is one sector.");
        long coreSectors = (coreImage.Length + SectorSize - 1) / SectorSize;
        if (coreImage.Length < SectorSize || 1 + coreSectors > firstLba)
            throw new ImageException($"core.img ({coreImage.Length} bytes) does not fit between the MBR and the partition at LBA {firstLba}.");
        if (firstLba + sectorCount > uint.MaxValue)
            throw new ImageException("An MBR partition cannot reach beyond 2 TiB.");

        byte[] mbr = new byte[SectorSize];
        bootImage[..WindowsNtMagicOffset].CopyTo(mbr);
        // util/setup.c: core.img's first sector is where the boot sector jumps; a hard disk ignores the drive-number check.
        BinaryPrimitives.WriteUInt64LittleEndian(mbr.AsSpan(KernelSectorOffset), 1);
        mbr[DriveCheckOffset] = 0x90;
        mbr[DriveCheckOffset + 1] = 0x90;
        Span<byte> entry = mbr.AsSpan(PartitionTableOffset, 16);
        entry[0] = 0x80;                                    // bootable
        entry[1] = 0xFE; entry[2] = 0xFF; entry[3] = 0xFF;  // CHS start: "use LBA"
        entry[4] = partitionType;
        entry[5] = 0xFE; entry[6] = 0xFF; entry[7] = 0xFF;  // CHS end: "use LBA"
        BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], (uint)firstLba);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[12..], (uint)sectorCount);
        mbr[510] = 0x55;
        mbr[511] = 0xAA;

        // diskboot.img (core.img's first sector) loads the rest through the blocklist at its end: start and length.
        byte[] core = coreImage.ToArray();
        Span<byte> blocklist = core.AsSpan(SectorSize - BlocklistSize, BlocklistSize);
        BinaryPrimitives.WriteUInt64LittleEndian(blocklist, 2);
        ushort length = BinaryPrimitives.ReadUInt16LittleEndian(blocklist[8..]);
        if (length != coreSectors - 1)
            throw new ImageException($"core.img's blocklist names {length} sectors, but it holds {coreSectors - 1} after diskboot.img.");

        disk.Position = 0;
        disk.Write(mbr);
        disk.Write(core);
    }
}
