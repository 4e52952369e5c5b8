using System.Buffers.Binary;
using TrustedLaunch.Images;
using TrustedLaunch.Images.Disk;

namespace TrustedLaunch.Images.Tests.Disk;

/// <summary>The Generation 1 boot sector as grub-bios-setup writes it: boot code, the core.img pointer, one bootable partition, core.img's blocklist.</summary>
public sealed class MasterBootRecordTests
{
    private static byte[] BootImage()
    {
        byte[] boot = new byte[512];
        boot.AsSpan().Fill(0xCC);
        return boot;
    }

    // A core.img of three sectors whose diskboot.img blocklist (the last 12 bytes of its first sector) names the other two.
    private static byte[] CoreImage(ushort sectorsAfterDiskboot = 2)
    {
        byte[] core = new byte[512 * 3];
        BinaryPrimitives.WriteUInt16LittleEndian(core.AsSpan(512 - 4), sectorsAfterDiskboot);
        BinaryPrimitives.WriteUInt16LittleEndian(core.AsSpan(512 - 2), 0x820);
        return core;
    }

    [Fact]
    public void Write_LaysOutBootSectorPartitionAndCore()
    {
        using var disk = new MemoryStream(new byte[4096 * 512]);
        MasterBootRecord.Write(disk, BootImage(), CoreImage(), firstLba: 2048, sectorCount: 2048);
        byte[] bytes = disk.ToArray();

        Assert.Equal(0xCC, bytes[0]);                                                      // boot code from boot.img
        Assert.Equal(1UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(0x5C)));    // core.img at sector 1
        Assert.Equal([0x90, 0x90], bytes[0x66..0x68]);                                      // hard disk: no drive-number jump
        Assert.Equal(0, bytes[0x1B8]);                                                     // boot code stops at the NT magic
        Assert.Equal(0x80, bytes[0x1BE]);                                                  // bootable
        Assert.Equal(MasterBootRecord.Fat32Lba, bytes[0x1BE + 4]);
        Assert.Equal(2048U, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(0x1BE + 8)));
        Assert.Equal(2048U, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(0x1BE + 12)));
        Assert.Equal([0x55, 0xAA], bytes[510..512]);
        Assert.Equal(2UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(512 + 500)));  // blocklist start: sector 2
    }

    [Fact]
    public void Write_CoreTooLargeForTheGap_Throws()
    {
        using var disk = new MemoryStream(new byte[4096 * 512]);
        Assert.Throws<ImageException>(() => MasterBootRecord.Write(disk, BootImage(), CoreImage(), firstLba: 3, sectorCount: 100));
    }

    [Fact]
    public void Write_BlocklistDisagreesWithCoreSize_Throws()
    {
        using var disk = new MemoryStream(new byte[4096 * 512]);
        Assert.Throws<ImageException>(() => MasterBootRecord.Write(disk, BootImage(), CoreImage(sectorsAfterDiskboot: 7), firstLba: 2048, sectorCount: 100));
    }

    [Fact]
    public void Probe_TheWrittenDisk_IsBiosBoot()
    {
        string path = Path.Combine(Testing.RepositoryPaths.NewTempDirectory("tl-mbr"), "gen1.raw");
        using (var disk = new FileStream(path, FileMode.CreateNew))
        {
            disk.SetLength(4096 * 512);
            MasterBootRecord.Write(disk, BootImage(), CoreImage(), firstLba: 2048, sectorCount: 2048);
        }

        BootLayoutReport report = BootLayoutProbe.Probe(path);

        Assert.Equal(DiskBootLayout.Bios, report.Layout);
    }
}
