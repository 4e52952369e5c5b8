using TrustedLaunch.Images.Disk;
using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Qemu;

namespace TrustedLaunch.Images.Tests.Disk;

/// <summary>The boot chain a key update's pre-flight judges, read from a GPT disk (raw and qcow2) and from a bare FAT ESP.</summary>
[IntegrationTest]
public sealed class EspBootBinariesTests : IDisposable
{
    private readonly string _directory = RepositoryPaths.NewTempDirectory("tl-esp-binaries");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Read_GptRawQcow2AndBareEsp_EfiBinariesOnlyWithTheirBytes()
    {
        string text = Path.Combine(_directory, "grub.cfg");
        File.WriteAllText(text, "set timeout=0\n");
        string raw = Path.Combine(_directory, "disk.raw");
        using (var disk = new FileStream(raw, FileMode.Create))
        {
            disk.SetLength(80L * 1024 * 1024);
            GuidPartitionTable.Write(disk, 163840, Guid.NewGuid(), [new GptPartition(1, GptPartition.EfiSystemPartition, Guid.NewGuid(), 2048, 163800, 0, "ESP")]);
        }

        var esp = new EspFileSystem(raw, 2048 * GuidPartitionTable.SectorSize);
        esp.Format(163800 - 2048 + 1, 0x12345678, "TL-ESP");
        esp.CreateDirectory("/EFI");
        esp.CreateDirectory("/EFI/BOOT");
        esp.CopyIn(DebianBootChain.Shim, "/EFI/BOOT/BOOTX64.EFI");
        esp.CopyIn(DebianBootChain.Grub, "/EFI/BOOT/grubx64.efi");
        esp.CopyIn(text, "/EFI/BOOT/grub.cfg");
        string qcow2 = Path.Combine(_directory, "disk.qcow2");
        Assert.Equal(0, ExternalTool.Run("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, qcow2]).ExitCode);
        string bare = OvmfBoot.CreateEsp(Directory.CreateDirectory(Path.Combine(_directory, "bare")).FullName,
            new Dictionary<string, string> { ["EFI/BOOT/BOOTX64.EFI"] = DebianBootChain.Shim, ["EFI/BOOT/grub.cfg"] = text });

        foreach (string disk in new[] { raw, qcow2 })
        {
            IReadOnlyList<EspBinary> binaries = EspBootBinaries.Read(disk);
            Assert.Equal(["/EFI/BOOT/BOOTX64.EFI", "/EFI/BOOT/grubx64.efi"], binaries.Select(b => b.Path));
            Assert.Equal(File.ReadAllBytes(DebianBootChain.Shim), binaries[0].Content);
        }

        Assert.Equal(["/EFI/BOOT/BOOTX64.EFI"], EspBootBinaries.Read(bare).Select(b => b.Path));
        string noEsp = Path.Combine(_directory, "blank.raw");
        File.WriteAllBytes(noEsp, new byte[1024 * 1024]);
        Assert.Throws<ImageException>(() => EspBootBinaries.Read(noEsp));
    }
}
