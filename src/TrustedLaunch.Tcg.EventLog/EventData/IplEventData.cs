namespace TrustedLaunch.Tcg.EventLog;

/// <summary>What an EV_IPL event records, judged from its PCR and text (grub tpm.c, shim tpm.c, systemd-boot).</summary>
public enum IplEventKind
{
    /// <summary>Unrecognised string or bytes.</summary>
    Other,

    /// <summary>GRUB PCR8 <c>grub_cmd: …</c> (or Red Hat's <c>grub_cmd …</c>): one executed command.</summary>
    GrubCommand,

    /// <summary>GRUB PCR8 <c>kernel_cmdline: …</c> (or Red Hat's <c>grub_kernel_cmdline …</c>): kernel path and arguments.</summary>
    KernelCommandLine,

    /// <summary>GRUB PCR8 <c>module_cmdline: …</c>: an initrd/multiboot module and its arguments.</summary>
    ModuleCommandLine,

    /// <summary>GRUB PCR9: a file GRUB read (grub.cfg, kernel, initrd); the digest is the file content.</summary>
    GrubFile,

    /// <summary>shim PCR14: MokList, MokListX, MokListTrusted, MokSBState, …; the digest is the variable content.</summary>
    ShimVariable,

    /// <summary>systemd-boot/stub PCR12 (or 8): UTF-16 kernel command line (LoadOptions).</summary>
    LoadOptions,
}

/// <summary>EV_IPL data decoded as a string, with the grub/shim prefix split off.</summary>
public sealed record IplEventData(IplEventKind Kind, string Text, string? Prefix, EventTextEncoding Encoding) : TcgEventData
{
    public override string Describe() => Kind switch
    {
        IplEventKind.GrubCommand => $"grub command: {Printable(Text)}",
        IplEventKind.KernelCommandLine => $"kernel command line: {Printable(Text)}",
        IplEventKind.ModuleCommandLine => $"module: {Printable(Text)}",
        IplEventKind.GrubFile => $"grub file: {Printable(Text)}",
        IplEventKind.ShimVariable => $"shim variable: {Printable(Text)}",
        IplEventKind.LoadOptions => $"load options: {Printable(Text)}",
        _ => $"\"{Printable(Text)}\"",
    };
}

/// <summary>
/// EV_EVENT_TAG (PFP §10.4.2, <c>TCG_PCClientTaggedEvent</c>). Windows uses the whole data as a sequence of SIPA
/// records (<see cref="Sipa"/>); the Linux EFI stub tags the initrd (0x8F3B22EC) and LoadOptions (0x8F3B22ED).
/// </summary>
public sealed record TaggedEventData(uint TaggedEventId, ReadOnlyMemory<byte> TaggedData, IReadOnlyList<SipaRecord>? Sipa) : TcgEventData
{
    /// <summary>Linux efistub INITRD_EVENT_TAG_ID: the digest is the initrd.</summary>
    public const uint LinuxInitrdTag = 0x8F3B22EC;

    /// <summary>Linux efistub LOAD_OPTIONS_EVENT_TAG_ID: the digest is the UTF-16 LoadOptions (kernel command line).</summary>
    public const uint LinuxLoadOptionsTag = 0x8F3B22ED;

    public override string Describe()
    {
        if (Sipa is not null)
            return "SIPA " + string.Join(", ", Sipa.Select(r => r.Describe()));
        string? text = TaggedEventId switch
        {
            LinuxInitrdTag => "Linux initrd",
            LinuxLoadOptionsTag => "Linux LoadOptions",
            _ => null,
        };
        return $"tag 0x{TaggedEventId:X8}" + (text is null ? "" : $" ({text})") + $", {TaggedData.Length} bytes";
    }
}
