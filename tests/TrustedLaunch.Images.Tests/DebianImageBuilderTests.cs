using System.Security.Cryptography;
using TrustedLaunch.Images.Disk;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Images.Tests;

[Collection(GuestImageGroup.Name)]
[IntegrationTest]
public sealed class DebianImageBuilderTests(GuestImageFixture images)
{
    [Fact]
    public void Build_Signed_PartitionTableAcceptedBySfdisk()
    {
        // sfdisk (util-linux) is the independent oracle for our GPT writer: it verifies both headers and CRCs.
        ToolResult result = ExternalTool.Run("sfdisk", ["--json", images.Trusted.RawPath]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("\"label\": \"gpt\"", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("\"start\": 2048", result.StandardOutput, StringComparison.Ordinal);
        ToolResult verify = ExternalTool.Run("sfdisk", ["--verify", images.Trusted.RawPath]);
        Assert.True(verify.ExitCode == 0 && verify.StandardOutput.Contains("No errors detected", StringComparison.Ordinal), verify.ToString());
    }

    [Fact]
    public void Build_Signed_EspHoldsDebianSignedChainByteForByte()
    {
        ImageInspection inspection = ImageInspector.Inspect(images.Trusted.RawPath, verifier: null);
        string[] paths = [.. inspection.EspFiles.Select(f => f.Path)];
        Assert.Equal(["/EFI/BOOT/BOOTX64.EFI", "/EFI/BOOT/grub.cfg", "/EFI/BOOT/grubx64.efi", "/EFI/debian/grub.cfg", "/initrd.gz", "/vmlinuz"], paths);
        foreach (EspFile file in inspection.EspFiles)
            Assert.Equal(images.Trusted.Manifest.Files[file.Path], file.Sha256);

        // The files on the ESP are the signed ones from the packages: compare with the .deb contents.
        string root = RepositoryPaths.NewTempDirectory();
        foreach (string deb in Directory.GetFiles(Path.Combine(GuestImageFixture.CacheRoot, "debs"), "shim-signed_*.deb"))
            ExternalTool.Run("dpkg-deb", ["-x", deb, root]);
        string shim = Path.Combine(root, "usr/lib/shim/shimx64.efi.signed");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(shim))), images.Trusted.Manifest.Files["/EFI/BOOT/BOOTX64.EFI"]);
        Assert.True(inspection.EspFiles.Single(f => f.Path == "/EFI/BOOT/BOOTX64.EFI").IsEfiBinary);
    }

    [Fact]
    public void Build_UnsignedGrub_GrubHasNoSignatureButShimStillHas()
    {
        string dir = RepositoryPaths.NewTempDirectory();
        var esp = new EspFileSystem(images.UnsignedGrub.RawPath, 2048 * 512);
        esp.CopyOut("/EFI/BOOT/grubx64.efi", Path.Combine(dir, "grub.efi"));
        esp.CopyOut("/EFI/BOOT/BOOTX64.EFI", Path.Combine(dir, "shim.efi"));
        ToolResult grub = ExternalTool.Run("sbverify", ["--list", Path.Combine(dir, "grub.efi")]);
        Assert.Contains("No signature table present", grub.StandardOutput + grub.StandardError, StringComparison.Ordinal);
        ToolResult shim = ExternalTool.Run("sbverify", ["--list", Path.Combine(dir, "shim.efi")]);
        Assert.Contains("Microsoft Corporation UEFI CA 2011", shim.StandardOutput, StringComparison.Ordinal);
        Assert.NotEqual(images.Trusted.Manifest.CacheKey, images.UnsignedGrub.Manifest.CacheKey);
    }

    [Fact]
    public void Build_Initramfs_ListedByCpioWithInitModulesAndConsole()
    {
        string dir = RepositoryPaths.NewTempDirectory();
        new EspFileSystem(images.Trusted.RawPath, 2048 * 512).CopyOut("/initrd.gz", Path.Combine(dir, "initrd.gz"));
        byte[] archive;
        using (var gz = new System.IO.Compression.GZipStream(File.OpenRead(Path.Combine(dir, "initrd.gz")), System.IO.Compression.CompressionMode.Decompress))
        using (var ms = new MemoryStream())
        {
            gz.CopyTo(ms);
            archive = ms.ToArray();
        }

        ToolResult list = ExternalTool.Run("cpio", ["-t", "-v", "--quiet"], standardInput: archive);
        Assert.True(list.ExitCode == 0, list.ToString());
        string text = list.StandardOutput;
        foreach (string expected in new[] { "init", "bin/busybox", "lib/modules/virtio_console.ko", "lib/modules/virtio_pci.ko",
                     "lib/modules/evdev.ko", "lib/modules/button.ko", "lib/modules/unsigned/ttyprintk.ko", "etc/acpi/PWRF/00000080",
                     "lib/modules/virtio_net.ko", "lib/modules/net_failover.ko", "lib/modules/failover.ko", "etc/udhcpc.script" })
        {
            Assert.Contains(" " + expected + "\n", text, StringComparison.Ordinal);
        }

        Assert.Matches(@"crw-------\s+1 root\s+root\s+5,\s+1 .* dev/console", text);
    }

    [Fact]
    public void Build_SecondTime_ComesFromCacheUntouched()
    {
        DateTime written = File.GetLastWriteTimeUtc(images.Trusted.RawPath);
        DebianImage again = GuestImageFixture.Build(UntrustedComponent.None);
        Assert.True(again.FromCache);
        Assert.Equal(images.Trusted.RawPath, again.RawPath);
        Assert.Equal(written, File.GetLastWriteTimeUtc(again.RawPath)); // served, not rebuilt (no timing: benchmarks measure speed)
    }

    [Fact]
    public void Export_Qcow2_InspectsToTheSameFiles()
    {
        string qcow2 = Path.Combine(RepositoryPaths.NewTempDirectory(), "d.qcow2");
        DebianImageBuilder.Export(images.Trusted, qcow2, "qcow2");
        ToolResult info = ExternalTool.Run("qemu-img", ["info", qcow2]);
        Assert.Contains("file format: qcow2", info.StandardOutput, StringComparison.Ordinal);
        ImageInspection inspection = ImageInspector.Inspect(qcow2, verifier: null);
        Assert.Equal("qcow2", inspection.Format);
        Assert.Equal(images.Trusted.Manifest.Files.Count, inspection.EspFiles.Count);
    }
}
