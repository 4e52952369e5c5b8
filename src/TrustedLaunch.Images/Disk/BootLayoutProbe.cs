using System.Globalization;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.Images.Disk;

/// <summary>How a disk boots: BIOS from an MBR (Azure's Generation 1, V1) or UEFI from a GPT's EFI System Partition (Generation 2, V2).</summary>
public enum DiskBootLayout
{
    Bios,
    Uefi,
}

/// <summary>
/// What <see cref="BootLayoutProbe"/> found: the layout, a sentence saying why, and for UEFI disks the firmware's
/// default boot loader (<c>\EFI\BOOT\BOOTX64.EFI</c>) or why it could not be read.
/// </summary>
public sealed record BootLayoutReport(DiskBootLayout Layout, string Detail, byte[]? BootLoader, string? BootLoaderProblem);

/// <summary>
/// Tells a Gen1 disk from a Gen2 one by its partitioning (UEFI 2.10 §5.2-5.3): a GPT with an EFI System Partition is
/// UEFI-bootable; an MBR with partitions, or a GPT with only a BIOS boot partition, is BIOS-bootable. A qcow2 disk is
/// read through <c>qemu-img dd</c>, only as far as its partition table and ESP reach.
/// </summary>
public static class BootLayoutProbe
{
    /// <summary>The "BIOS boot partition" type GRUB uses on GPT disks booted by a BIOS.</summary>
    public static readonly Guid BiosBootPartition = new("21686148-6449-6E6F-744E-656564454649");

    public const string BootLoaderPath = "/EFI/BOOT/BOOTX64.EFI";

    private const int Sector = GuidPartitionTable.SectorSize;
    private const long HeadBytes = 1024 * 1024;
    private const long MaxEspEnd = 4L * 1024 * 1024 * 1024;

    /// <exception cref="ImageException">Not a bootable disk (no boot signature, no usable partitioning), or qemu-img is missing for a qcow2 disk.</exception>
    public static BootLayoutReport Probe(string disk)
    {
        string full = Path.GetFullPath(disk);
        if (!File.Exists(full))
            throw new ImageException($"Disk image {disk} does not exist.");
        string work = Path.Combine(Path.GetTempPath(), $"tl-probe-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            bool qcow2 = DiskImageFormats.Detect(full) == DiskImageFormat.Qcow2;
            string raw = qcow2 ? Head(full, Path.Combine(work, "head.raw"), HeadBytes) : full;
            byte[] head = ReadHead(raw);
            if (head[510] != 0x55 || head[511] != 0xAA)
                throw new ImageException("The disk has no boot signature (0x55AA at byte 510): it is neither an MBR nor a GPT boot disk.");
            if (!head.AsSpan(Sector, 8).SequenceEqual("EFI PART"u8))
                return Mbr(head);

            IReadOnlyList<GptPartition> partitions;
            using (FileStream stream = File.OpenRead(raw))
                partitions = GuidPartitionTable.Read(stream, out _);
            GptPartition? esp = partitions.FirstOrDefault(p => p.IsEfiSystemPartition);
            if (esp is null)
            {
                return partitions.Any(p => p.Type == BiosBootPartition)
                    ? new BootLayoutReport(DiskBootLayout.Bios, "GPT disk with a BIOS boot partition and no EFI System Partition: BIOS boot.", null, null)
                    : throw new ImageException("The GPT disk has neither an EFI System Partition nor a BIOS boot partition: it boots neither way.");
            }

            string detail = string.Create(CultureInfo.InvariantCulture, $"GPT disk with an EFI System Partition (partition {esp.Index}): UEFI boot.");
            if (qcow2)
            {
                long end = (esp.LastLba + 1) * Sector;
                if (end > MaxEspEnd)
                    return new BootLayoutReport(DiskBootLayout.Uefi, detail, null, "the ESP lies beyond the first 4 GiB of the disk");
                raw = Head(full, Path.Combine(work, "esp.raw"), end);
            }

            (byte[]? loader, string? problem) = ReadBootLoader(raw, esp, work);
            return new BootLayoutReport(DiskBootLayout.Uefi, detail, loader, problem);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static BootLayoutReport Mbr(byte[] head)
    {
        // MBR partition records at 446, 16 bytes each; type at +4 (0xEE: protective, a GPT whose header is missing).
        byte[] types = Enumerable.Range(0, 4).Select(i => head[446 + 16 * i + 4]).Where(t => t != 0).ToArray();
        if (types.Contains((byte)0xEE))
            throw new ImageException("The disk has a protective MBR but no GPT header at LBA 1.");
        if (types.Length == 0)
            throw new ImageException("The MBR has no partitions.");
        return new BootLayoutReport(DiskBootLayout.Bios,
            string.Create(CultureInfo.InvariantCulture, $"MBR disk with {types.Length} partition(s) and no GPT: BIOS boot."), null, null);
    }

    private static (byte[]? Loader, string? Problem) ReadBootLoader(string raw, GptPartition esp, string work)
    {
        string target = Path.Combine(work, "bootx64.efi");
        try
        {
            new EspFileSystem(raw, esp.Offset).CopyOut(BootLoaderPath, target);
            return (File.ReadAllBytes(target), null);
        }
        catch (ImageException e)
        {
            return (null, $"{BootLoaderPath} could not be read from the ESP: {e.Message}");
        }
    }

    private static byte[] ReadHead(string raw)
    {
        using FileStream stream = File.OpenRead(raw);
        byte[] head = new byte[2 * Sector];
        if (stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length)
            throw new ImageException("The disk is smaller than two sectors.");
        return head;
    }

    // The first `bytes` of a qcow2 disk as a raw file, without converting the whole disk.
    private static string Head(string qcow2, string output, long bytes)
    {
        long megabytes = (bytes + HeadBytes - 1) / HeadBytes;
        ExternalCommand.Run("qemu-img", "qemu-utils",
            ["dd", "-f", "qcow2", "-O", "raw", "bs=1M", string.Create(CultureInfo.InvariantCulture, $"count={megabytes}"), $"if={qcow2}", $"of={output}"]);
        return output;
    }
}
