using TrustedLaunch.Images.Disk;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Images.Tests.Disk;

/// <summary>Gen1 (MBR/BIOS) and Gen2 (GPT + ESP) told apart on synthetic disks; the boot loader check itself needs a real ESP (mtools).</summary>
public sealed class BootLayoutProbeTests : IDisposable
{
    private readonly string _directory = RepositoryPaths.NewTempDirectory("tl-probe-test");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Probe_GptWithEsp_UefiAndSaysWhyTheLoaderIsOrIsNotRead()
    {
        string disk = Gpt(GptPartition.EfiSystemPartition);

        BootLayoutReport report = BootLayoutProbe.Probe(disk);

        Assert.Equal(DiskBootLayout.Uefi, report.Layout);
        Assert.Contains("EFI System Partition", report.Detail, StringComparison.Ordinal);
        // The ESP here holds no FAT file system, so there is no boot loader to hand to the Secure Boot check.
        Assert.Null(report.BootLoader);
        Assert.Contains(BootLayoutProbe.BootLoaderPath, report.BootLoaderProblem, StringComparison.Ordinal);
    }

    [Fact]
    public void Probe_GptWithOnlyBiosBootPartition_Bios() =>
        Assert.Equal(DiskBootLayout.Bios, BootLayoutProbe.Probe(Gpt(BootLayoutProbe.BiosBootPartition)).Layout);

    [Fact]
    public void Probe_MbrWithPartition_Bios()
    {
        string disk = Path.Combine(_directory, "mbr.raw");
        byte[] image = new byte[1024 * 1024];
        image[446 + 4] = 0x83; // one Linux partition
        image[510] = 0x55;
        image[511] = 0xAA;
        File.WriteAllBytes(disk, image);

        BootLayoutReport report = BootLayoutProbe.Probe(disk);

        Assert.Equal(DiskBootLayout.Bios, report.Layout);
        Assert.Null(report.BootLoaderProblem);
    }

    [Theory]
    [InlineData("no-signature")]
    [InlineData("empty-mbr")]
    [InlineData("protective-without-gpt")]
    [InlineData("gpt-without-boot-partition")]
    public void Probe_NotBootable_ImageException(string kind)
    {
        string disk = Path.Combine(_directory, kind + ".raw");
        if (kind == "gpt-without-boot-partition")
        {
            disk = Gpt(new Guid("0FC63DAF-8483-4772-8E79-3D69D8477DE4"));
        }
        else
        {
            byte[] image = new byte[1024 * 1024];
            if (kind != "no-signature")
            {
                image[510] = 0x55;
                image[511] = 0xAA;
            }

            if (kind == "protective-without-gpt")
                image[446 + 4] = 0xEE;
            File.WriteAllBytes(disk, image);
        }

        Assert.Throws<ImageException>(() => BootLayoutProbe.Probe(disk));
    }

    private string Gpt(Guid partitionType)
    {
        string path = Path.Combine(_directory, $"gpt-{Guid.NewGuid():N}.raw");
        using var disk = new FileStream(path, FileMode.Create);
        disk.SetLength(8 * 1024 * 1024);
        GuidPartitionTable.Write(disk, 16384, Guid.NewGuid(), [new GptPartition(1, partitionType, Guid.NewGuid(), 2048, 16000, 0, "p1")]);
        return path;
    }
}
