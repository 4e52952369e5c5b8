using System.Text;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Images.Disk;

namespace TrustedLaunch.Images;

/// <summary>An EFI binary (PE/COFF, "MZ") on a VM's ESP, e.g. <c>/EFI/BOOT/BOOTX64.EFI</c>.</summary>
public sealed record EspBinary(string Path, byte[] Content);

/// <summary>
/// Reads every EFI binary of a VM's EFI System Partition: the boot chain a Secure Boot key change must not break. The
/// disk is a GPT disk (raw or qcow2; the ESP partition is read) or a bare FAT ESP image, as the boot tests attach.
/// </summary>
public static class EspBootBinaries
{
    public static IReadOnlyList<EspBinary> Read(string disk)
    {
        string full = Path.GetFullPath(disk);
        if (!File.Exists(full))
            throw new ImageException($"Disk image {disk} does not exist.");
        string work = Path.Combine(Path.GetTempPath(), $"tl-esp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            string raw = full;
            if (DiskImageFormats.Detect(full).QemuName() == "qcow2")
            {
                raw = Path.Combine(work, "disk.raw");
                ExternalCommand.Run("qemu-img", "qemu-utils", ["convert", "-q", "-f", "qcow2", "-O", "raw", full, raw]);
            }

            var esp = new EspFileSystem(raw, EspOffset(raw));
            var binaries = new List<EspBinary>();
            int n = 0;
            foreach (string path in esp.ListFiles())
            {
                string host = Path.Combine(work, $"f{n++}");
                esp.CopyOut(path, host);
                byte[] content = File.ReadAllBytes(host);
                if (content.Length > 0x40 && content[0] == 'M' && content[1] == 'Z')
                    binaries.Add(new EspBinary(path, content));
            }

            return binaries;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The ESP partition's offset on a GPT disk; 0 for a disk that is itself a FAT file system.</summary>
    private static long EspOffset(string raw)
    {
        using FileStream stream = File.OpenRead(raw);
        byte[] boot = new byte[512];
        stream.ReadExactly(boot);
        // A FAT boot sector: 0x55AA at 510 and the file-system type at 54 (FAT12/16) or 82 (FAT32) (Microsoft FAT spec §3.1-3.3).
        bool fat = boot[510] == 0x55 && boot[511] == 0xAA
            && (Encoding.ASCII.GetString(boot, 54, 3) == "FAT" || Encoding.ASCII.GetString(boot, 82, 3) == "FAT");
        if (fat)
            return 0;
        stream.Position = 0;
        GptPartition esp = GuidPartitionTable.Read(stream, out _).FirstOrDefault(p => p.IsEfiSystemPartition)
            ?? throw new ImageException($"{raw} has no EFI System Partition: there is no boot chain to check.");
        return esp.Offset;
    }
}
