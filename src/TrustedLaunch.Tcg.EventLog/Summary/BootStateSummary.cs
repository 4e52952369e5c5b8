using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>
/// The boot state a log attests to, derived ONLY from events whose digest is part of a PCR value that matched
/// (<see cref="PcrComparison.ReplayedBank"/>) and, where the spec defines the digest over the data, whose data
/// hashes to that digest. Everything else is listed in <see cref="ExcludedEvents"/>, never interpreted.
/// </summary>
public sealed record BootStateSummary
{
    /// <summary>False when no TPM PCR values were given: the log was only checked against itself.</summary>
    public required bool PcrValuesVerified { get; init; }

    /// <summary>Firmware's EV_S_CRTM_VERSION (PCR0), e.g. "GCE Virtual Firmware v1" or an OVMF build string.</summary>
    public string? FirmwareVersion { get; init; }

    public required SecureBootState SecureBoot { get; init; }

    /// <summary>
    /// EV_EFI_VARIABLE_AUTHORITY events replayed in PCR 7 after its separator, in PCR 7's order: the set of what admitted
    /// boot code. The quote proves this set; it does not prove which image each one admitted.
    /// </summary>
    public required IReadOnlyList<BootAuthority> Authorities { get; init; }

    /// <summary>PE images measured into PCR 4 (applications, and drivers if a log labels them so), in PCR 4's order.</summary>
    public required IReadOnlyList<BootApplication> BootApplications { get; init; }

    /// <summary>PCI option ROMs, drivers and firmware blobs measured into PCR 2.</summary>
    public required IReadOnlyList<BootApplication> BootServicesDrivers { get; init; }

    /// <summary>GRUB's executed commands (PCR8), in order.</summary>
    public required IReadOnlyList<string> GrubCommands { get; init; }

    /// <summary>Files GRUB read (PCR9), with their content digest.</summary>
    public required IReadOnlyList<MeasuredFile> GrubFiles { get; init; }

    /// <summary>
    /// The kernel command line (GRUB kernel_cmdline or systemd-boot LoadOptions, without trailing NUL) when exactly one
    /// distinct one was measured; null when none or several were (see <see cref="KernelCommandLines"/>).
    /// </summary>
    public string? KernelCommandLine { get; init; }

    /// <summary>Every kernel command line measured, in order (a boot may load several kernels; each counts).</summary>
    public required IReadOnlyList<string> KernelCommandLines { get; init; }

    /// <summary>Every measured string that can carry kernel arguments: command lines, GRUB linux commands, menu entries.</summary>
    public required IReadOnlyList<KernelArgumentSource> KernelArguments { get; init; }

    public ShimState? Shim { get; init; }

    public WindowsBootState? Windows { get; init; }

    /// <summary>True when "Exit Boot Services Invocation" was measured into PCR5 (control reached the OS).</summary>
    public required bool ExitBootServicesMeasured { get; init; }

    /// <summary>Events in attestation-relevant PCRs whose (PCR, type) this summary does not interpret; a strict appraisal fails on them.</summary>
    public required IReadOnlyList<EventReference> UninterpretedEvents { get; init; }

    /// <summary>Events left out because they did not replay, their digest does not match their data, or their data is malformed.</summary>
    public required IReadOnlyList<ExcludedEvent> ExcludedEvents { get; init; }

    /// <summary>Findings about the log's shape (PCR7 order, duplicate variables, error separators, …).</summary>
    public required IReadOnlyList<string> Warnings { get; init; }
}

/// <summary>Secure Boot configuration as measured into PCR7 (PFP §10.4.4, fact sheet §4.6).</summary>
public sealed record SecureBootState
{
    /// <summary>The SecureBoot variable: true (1), false (0), or null when not measured or not one byte.</summary>
    public bool? Enabled { get; init; }

    public SignatureDatabase? Pk { get; init; }

    public SignatureDatabase? Kek { get; init; }

    public SignatureDatabase? Db { get; init; }

    public SignatureDatabase? Dbx { get; init; }

    public SignatureDatabase? Dbt { get; init; }

    /// <summary>The firmware logged EV_EFI_ACTION "UEFI Debug Mode": a debugger was enabled; attestation must fail.</summary>
    public bool DebugMode { get; init; }

    /// <summary>The firmware logged EV_EFI_ACTION "DMA Protection Disabled" (PCR7).</summary>
    public bool DmaProtectionDisabled { get; init; }
}

/// <summary>An EV_EFI_VARIABLE_AUTHORITY event: the db/MokList entry, vendor certificate or setting that admitted code.</summary>
public sealed record BootAuthority(int EventIndex, string VariableName, Guid VendorGuid, SignatureEntry? Entry, string? Text)
{
    public string Describe() => Entry is not null ? $"{VariableName}: {Entry.Describe()}" :
        Text is not null ? $"{VariableName}: \"{TcgEventData.Printable(Text)}\"" : VariableName;
}

/// <summary>A PE image measured by its Authenticode digest (PCR4 application or PCR2 driver).</summary>
public sealed record BootApplication
{
    public required int EventIndex { get; init; }

    /// <summary>The event type as logged; not covered by the digest, so informational only.</summary>
    public required TcgEventType EventType { get; init; }

    /// <summary>The bank the digests were taken from (the strongest that replayed).</summary>
    public required TpmAlgId Bank { get; init; }

    /// <summary>The image's Authenticode digest in <see cref="Bank"/>, hex.</summary>
    public required string AuthenticodeDigest { get; init; }

    /// <summary>Every bank's digest (hex) for this event.</summary>
    public required IReadOnlyDictionary<string, string> Digests { get; init; }

    /// <summary>edk2 device-path text; null when the image was loaded from memory. Not covered by the digest (the image is).</summary>
    public string? DevicePath { get; init; }

    /// <summary>
    /// The authority that probably admitted this image: the last authority event before it in log order. The order of
    /// PCR 7 and PCR 4 events relative to each other is not covered by any digest, so this is information, never proof.
    /// </summary>
    public BootAuthority? Authority { get; init; }

    /// <summary>
    /// True when no authority was logged right before this image and <see cref="Authority"/> is the most recent earlier one:
    /// firmware and shim measure each distinct authority once, so an image admitted by an already-used authority logs none.
    /// </summary>
    public bool AuthorityInherited { get; init; }

    /// <summary>True when the image ran before "Calling EFI Application from Boot Option" (e.g. QEMU -kernel, vendor tools).</summary>
    public bool BeforeBootOptionCall { get; init; }
}

/// <summary>A file a boot loader measured: its path and content digest.</summary>
public sealed record MeasuredFile(string Path, string Digest);

/// <summary>shim's measurements: PCR14 MOK variables (digest = content) and SbatLevel (PCR7 authority).</summary>
public sealed record ShimState
{
    public string? SbatLevel { get; init; }

    /// <summary>Names of the MOK variables shim measured into PCR14 (MokList, MokListX, MokListTrusted, MokSBState, …).</summary>
    public required IReadOnlyList<string> MeasuredVariables { get; init; }
}

/// <summary>A pointer to one event.</summary>
public sealed record EventReference(int EventIndex, uint PcrIndex, TcgEventType Type)
{
    public string TypeName => TcgEventTypeNames.Name(Type);
}

/// <summary>An event left out of the summary and why.</summary>
public sealed record ExcludedEvent(int EventIndex, uint PcrIndex, TcgEventType Type, string Reason)
{
    public string TypeName => TcgEventTypeNames.Name(Type);
}
