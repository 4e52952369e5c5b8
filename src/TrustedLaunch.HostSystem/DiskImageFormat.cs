namespace TrustedLaunch.HostSystem;

/// <summary>Disk image container formats QEMU is told explicitly (never probed, a guest could forge a header).</summary>
public enum DiskImageFormat
{
    Raw,
    Qcow2,
}

/// <summary>Tells a host disk image's container format from its first bytes.</summary>
public static class DiskImageFormats
{
    // qcow2 header: magic "QFI\xfb" (QEMU docs/interop/qcow2.txt).
    private static ReadOnlySpan<byte> Qcow2Magic => [0x51, 0x46, 0x49, 0xFB];

    /// <summary>raw or qcow2, from the file's magic.</summary>
    public static DiskImageFormat Detect(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        int read = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        return read == 4 && magic.SequenceEqual(Qcow2Magic) ? DiskImageFormat.Qcow2 : DiskImageFormat.Raw;
    }

    /// <summary>The name QEMU and qemu-img use for <paramref name="format"/>.</summary>
    public static string QemuName(this DiskImageFormat format) => format == DiskImageFormat.Qcow2 ? "qcow2" : "raw";
}
