using System.Globalization;

namespace TrustedLaunch.Images.Grub;

/// <summary>The GRUB commands the image's menu entry loads the kernel and initramfs with.</summary>
public enum GrubKernelLoader
{
    /// <summary>
    /// <c>linux</c>/<c>initrd</c>, as Debian writes them. Debian's GRUB hands over to <c>linuxefi</c> only under Secure
    /// Boot; without it GRUB exits boot services itself and jumps into the kernel, so the kernel's EFI stub never runs and
    /// the kernel exposes no TCG event log.
    /// </summary>
    Linux,

    /// <summary>
    /// <c>linuxefi</c>/<c>initrdefi</c> (built into Debian's signed GRUB): always the kernel's EFI stub, so the kernel gets
    /// the firmware's TCG event log with Secure Boot off too. Under Secure Boot shim still verifies the kernel.
    /// </summary>
    LinuxEfi,
}

/// <summary>The image's <c>grub.cfg</c>: one menu entry, no timeout.</summary>
internal static class GrubConfiguration
{
    /// <exception cref="ImageException">The command line is not one line (a line break would add GRUB commands).</exception>
    public static string Render(string title, GrubKernelLoader loader, string kernelCommandLine)
    {
        ArgumentNullException.ThrowIfNull(kernelCommandLine);
        if (kernelCommandLine.AsSpan().IndexOfAny('\r', '\n') >= 0)
            throw new ImageException(ImageFailure.BadInput, "The kernel command line must be one line.");
        (string linux, string initrd) = loader switch
        {
            GrubKernelLoader.Linux => ("linux", "initrd"),
            GrubKernelLoader.LinuxEfi => ("linuxefi", "initrdefi"),
            _ => throw new ImageException(ImageFailure.BadInput, $"Unknown GRUB kernel loader {loader}."),
        };
        return string.Create(CultureInfo.InvariantCulture,
            $"set timeout=0\nmenuentry \"{title}\" {{\n  {linux} /vmlinuz {kernelCommandLine}\n  {initrd} /initrd.gz\n}}\n");
    }
}
