using TrustedLaunch.Tcg.EventLog;

namespace TrustedLaunch.Attestation;

/// <summary>
/// The boot a verified quote and a replayed event log attest to. Built only from events whose digests are part of
/// a quoted PCR value (the event type and data are interpreted only after that), so everything here is covered by
/// the AK's signature.
/// </summary>
public sealed record AttestedBootState
{
    /// <summary>The SecureBoot variable measured into PCR 7; null when it was not measured.</summary>
    public bool? SecureBootEnabled { get; init; }

    /// <summary>The firmware logged "UEFI Debug Mode".</summary>
    public bool FirmwareDebugMode { get; init; }

    /// <summary>
    /// A measured string that carries kernel arguments (command line, GRUB linux command, menu entry) or a Windows boot
    /// record enables a kernel debugger: true or false when measured, null when nothing measured can tell.
    /// </summary>
    public bool? KernelDebugEnabled { get; init; }

    /// <summary>The firmware version string (EV_S_CRTM_VERSION).</summary>
    public string? FirmwareVersion { get; init; }

    /// <summary>PK, KEK, db and dbx as measured.</summary>
    public required SecureBootKeys Keys { get; init; }

    /// <summary>KEK and db are Microsoft's defaults, 2011, 2023 or both (<see cref="MicrosoftSecureBootKeys.AreDefault"/>).</summary>
    public bool DefaultSecureBootKeys { get; init; }

    /// <summary>
    /// Secure Boot was on, db was measured, boot code was loaded, and an authority replayed after the PCR 7 separator is
    /// an entry of that measured db: the firmware admitted boot code through db.
    /// </summary>
    public bool DbValidated { get; init; }

    /// <summary>dbx was measured into a replayed PCR 7 and is not empty.</summary>
    public bool DbxValidated { get; init; }

    /// <summary>Every EV_EFI_VARIABLE_AUTHORITY replayed in PCR 7 after its separator, in words: what admitted boot code.</summary>
    public required IReadOnlyList<string> Authorities { get; init; }

    /// <summary>
    /// The same authorities as entries (certificate or hash, and the variable that held it), SbatLevel left out: the set
    /// the quote proves. Reference policies judge authorities on this set, never on which image each is paired with.
    /// </summary>
    public IReadOnlyList<AttestedAuthority> AuthorityEntries { get; init; } = [];

    /// <summary>PE images measured into PCR 4, in order, each with the authority the log's order suggests admitted it.</summary>
    public required IReadOnlyList<BootComponent> BootChain { get; init; }

    /// <summary>GRUB's commands (PCR 8).</summary>
    public required IReadOnlyList<string> GrubCommands { get; init; }

    /// <summary>Files GRUB read (PCR 9): path and digest.</summary>
    public required IReadOnlyList<MeasuredFileDigest> GrubFiles { get; init; }

    /// <summary>The kernel command line when exactly one distinct one was measured; null when none or several (see <see cref="KernelArguments"/>).</summary>
    public string? KernelCommandLine { get; init; }

    /// <summary>Every measured string that carries kernel arguments (command lines, GRUB linux commands, menu entries), in order.</summary>
    public IReadOnlyList<KernelArgument> KernelArguments { get; init; } = [];

    /// <summary>
    /// The Windows boot configuration from the SIPA records of Windows' boot configuration log, read only from events
    /// replayed into quoted PCRs (12-14); null when no Windows boot was measured there.
    /// </summary>
    public WindowsBootState? Windows { get; init; }

    /// <summary>MOK variables shim measured into PCR 14.</summary>
    public required IReadOnlyList<string> ShimVariables { get; init; }

    /// <summary>PCR indices the quote covered in every bank.</summary>
    public required IReadOnlyList<int> AttestedPcrs { get; init; }

    /// <summary>The quoted, verified PCR values: bank name to index to lowercase hex.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<int, string>> Pcrs { get; init; }

    /// <summary>Shape problems the appraisal found (uninterpretable or excluded events, missing separators); any fails the minimum policy.</summary>
    public required IReadOnlyList<string> Anomalies { get; init; }
}

/// <summary>The Secure Boot databases as measured into PCR 7.</summary>
public sealed record SecureBootKeys
{
    /// <summary>Platform key entries.</summary>
    public required IReadOnlyList<KeyEntry> Pk { get; init; }

    /// <summary>Key-exchange key entries.</summary>
    public required IReadOnlyList<KeyEntry> Kek { get; init; }

    /// <summary>Allowed signature database entries.</summary>
    public required IReadOnlyList<KeyEntry> Db { get; init; }

    /// <summary>Number of forbidden-database entries (hashes and certificates).</summary>
    public int DbxCount { get; init; }

    /// <summary>SHA-256 over the dbx entries in order, hex; identifies the revocation level.</summary>
    public string? DbxDigest { get; init; }
}

/// <summary>One signature-database entry: a certificate (by common name and SHA-256 thumbprint) or a hash.</summary>
public sealed record KeyEntry(string Name, string Sha256);

/// <summary>A PE image the firmware or shim measured into PCR 4.</summary>
public sealed record BootComponent
{
    /// <summary>PCR the image was measured into.</summary>
    public required int Pcr { get; init; }

    /// <summary>
    /// File name from the device path (<c>grubx64.efi</c>), or a positional name when loaded from memory. A label: the
    /// device path is logged beside the measurement, not in it (see <see cref="NameSource"/>).
    /// </summary>
    public required string Name { get; init; }

    /// <summary>Where <see cref="Name"/> comes from: <c>devicePath</c> (logged text the digest does not cover) or <c>position</c>.</summary>
    public string NameSource { get; init; } = ComponentNameSources.Position;

    /// <summary>edk2 device-path text, when logged.</summary>
    public string? Path { get; init; }

    /// <summary>Bank of <see cref="Digest"/>.</summary>
    public required string Bank { get; init; }

    /// <summary>Authenticode digest, lowercase hex.</summary>
    public required string Digest { get; init; }

    /// <summary>
    /// What probably admitted the image (db certificate, shim vendor certificate, MokList): the authority logged before
    /// it. The order of PCR 7 and PCR 4 events is not covered by the quote, so this is information, never proof.
    /// </summary>
    public string? Authority { get; init; }

    /// <summary>The admitting certificate's common name (or the hash kind), when the authority is a signature entry.</summary>
    public string? AuthorityName { get; init; }

    /// <summary>SHA-256 of the admitting certificate (or the admitting hash), lowercase hex.</summary>
    public string? AuthoritySha256 { get; init; }
}

/// <summary>A file GRUB measured (PCR 9).</summary>
public sealed record MeasuredFileDigest(string Path, string Digest);

/// <summary>Values of <see cref="BootComponent.NameSource"/>.</summary>
public static class ComponentNameSources
{
    /// <summary>The file name in the device path the firmware logged beside the measurement; not authenticated.</summary>
    public const string DevicePath = "devicePath";

    /// <summary>A name from the image's position in the chain (loaded from memory, no device path).</summary>
    public const string Position = "position";
}

/// <summary>An authority replayed in PCR 7 after its separator: the variable that held it and the entry (certificate or hash).</summary>
public sealed record AttestedAuthority(string Variable, string Name, string Sha256);

/// <summary>A measured string that carries kernel arguments.</summary>
/// <param name="Origin"><c>commandLine</c>, <c>linuxCommand</c> or <c>menuEntry</c>.</param>
/// <param name="Arguments">The arguments (for a linux command or menu entry, the kernel path and its arguments).</param>
/// <param name="Executed">False for a menu entry's definition, which may never have run.</param>
public sealed record KernelArgument(string Origin, string Arguments, bool Executed);
