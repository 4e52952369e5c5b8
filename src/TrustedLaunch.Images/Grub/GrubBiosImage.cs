using System.Globalization;
using System.Text;

namespace TrustedLaunch.Images.Grub;

/// <summary>
/// GRUB for BIOS (i386-pc) from Debian's own packages: <c>boot.img</c> from grub-pc-bin and a <c>core.img</c> made by
/// grub-common's <c>grub-mkimage</c>, run from the unpacked package (nothing is installed), with the modules to read the
/// MBR partition's FAT file system and boot Linux, and an embedded configuration: serial console, kernel, initramfs, boot.
/// </summary>
internal static class GrubBiosImage
{
    /// <summary>What the core image carries: disk access, the partition and file system, the Linux loader, the serial terminal.</summary>
    public static readonly IReadOnlyList<string> Modules = ["biosdisk", "part_msdos", "fat", "linux", "boot", "serial", "terminal", "echo"];

    /// <summary>The configuration embedded in core.img (read before any file system is touched).</summary>
    public static string Configuration(string kernelCommandLine)
    {
        ArgumentNullException.ThrowIfNull(kernelCommandLine);
        if (kernelCommandLine.AsSpan().IndexOfAny('\r', '\n') >= 0)
            throw new ImageException(ImageFailure.BadInput, "The kernel command line must be one line.");
        return string.Create(CultureInfo.InvariantCulture, $"""
            serial --unit=0 --speed=115200
            terminal_input serial console
            terminal_output serial console
            set root=(hd0,msdos1)
            echo "GRUB (BIOS): loading /vmlinuz"
            linux /vmlinuz {kernelCommandLine}
            initrd /initrd.gz
            boot

            """);
    }

    /// <summary>Builds core.img with the grub-mkimage of the unpacked grub-common in <paramref name="root"/>.</summary>
    public static byte[] BuildCore(string root, string kernelCommandLine, string work)
    {
        string mkimage = Path.Combine(root, "usr", "bin", "grub-mkimage");
        string modules = Path.Combine(root, "usr", "lib", "grub", "i386-pc");
        if (!File.Exists(mkimage) || !Directory.Exists(modules))
            throw new ImageException(ImageFailure.Environment, "grub-common or grub-pc-bin did not unpack grub-mkimage and the i386-pc modules.");
        string config = Path.Combine(work, "grub-embedded.cfg");
        File.WriteAllText(config, Configuration(kernelCommandLine), Encoding.ASCII);
        string output = Path.Combine(work, "core.img");
        ExternalCommand.Run(mkimage, "grub-common", ["-O", "i386-pc", "-d", modules, "-p", "(hd0,msdos1)/boot/grub", "-c", config, "-o", output, .. Modules]);
        return File.ReadAllBytes(output);
    }

    /// <summary>grub-pc-bin's boot.img (the MBR boot code).</summary>
    public static byte[] BootSector(string root) => File.ReadAllBytes(Path.Combine(root, "usr", "lib", "grub", "i386-pc", "boot.img"));
}
