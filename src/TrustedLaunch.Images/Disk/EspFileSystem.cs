using System.Globalization;

namespace TrustedLaunch.Images.Disk;

/// <summary>
/// The FAT file system of an EFI System Partition inside a disk image, driven through mtools with the
/// <c>-i IMAGE@@OFFSET</c> syntax: no root, no loop device, no mount. mtools is the reference FAT implementation on
/// Linux userspace; writing our own FAT writer would buy nothing a boot test can see.
/// </summary>
public sealed class EspFileSystem(string diskImage, long offset)
{
    private static readonly Dictionary<string, string> MtoolsEnvironment = new(StringComparer.Ordinal)
    {
        ["MTOOLS_SKIP_CHECK"] = "1", // the partition need not have a DOS-plausible CHS geometry
        ["MTOOLS_NO_VFAT"] = "0",
    };

    private string Target => $"{diskImage}@@{offset.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Creates a FAT file system of <paramref name="sectors"/> sectors with a fixed serial (reproducible).</summary>
    public void Format(long sectors, uint serial, string label)
    {
        Run("mformat", ["-i", Target, "-T", sectors.ToString(CultureInfo.InvariantCulture), "-h", "64", "-s", "32",
            "-H", (offset / GuidPartitionTable.SectorSize).ToString(CultureInfo.InvariantCulture),
            "-N", serial.ToString("X8", CultureInfo.InvariantCulture), "-v", label, "::"]);
    }

    public void CreateDirectory(string path) => Run("mmd", ["-i", Target, "::" + path]);

    /// <summary>Copies a host file in, keeping its modification time (set by the builder for reproducibility).</summary>
    public void CopyIn(string hostFile, string path) => Run("mcopy", ["-i", Target, "-o", "-m", hostFile, "::" + path]);

    public void CopyOut(string path, string hostFile) => Run("mcopy", ["-i", Target, "-o", "-n", "::" + path, hostFile]);

    /// <summary>Every file (not directory) path on the file system, recursively, e.g. <c>/EFI/BOOT/BOOTX64.EFI</c>.</summary>
    public IReadOnlyList<string> ListFiles()
    {
        // mdir -/ (recursive) -b (bare): one path per line, directories end with '/'.
        string output = ExternalCommand.Run("mdir", "mtools", ["-i", Target, "-/", "-b", "::/"], environment: MtoolsEnvironment);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.EndsWith('/'))
            .Select(line => line.StartsWith("::", StringComparison.Ordinal) ? line[2..] : line)
            .Order(StringComparer.Ordinal)
            .ToArray();
    }

    private static void Run(string tool, IEnumerable<string> arguments) =>
        ExternalCommand.Run(tool, "mtools", arguments, environment: MtoolsEnvironment);
}
