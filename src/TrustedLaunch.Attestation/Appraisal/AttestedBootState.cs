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

    /// <summary>The measured kernel command line enables a kernel debugger (kgdb, dbgp).</summary>
    public bool KernelDebugEnabled { get; init; }

    /// <summary>The firmware version string (EV_S_CRTM_VERSION).</summary>
    public string? FirmwareVersion { get; init; }

    /// <summary>PK, KEK, db and dbx as measured.</summary>
    public required SecureBootKeys Keys { get; init; }

    /// <summary>KEK and db are exactly the Microsoft defaults (KEK CA 2011; Windows PCA 2011 and/or UEFI CA 2011).</summary>
    public bool DefaultSecureBootKeys { get; init; }

    /// <summary>db was measured and admitted every boot application (each authority came from db or from shim's own certificate).</summary>
    public bool DbValidated { get; init; }

    /// <summary>dbx was measured into a replayed PCR 7 and is not empty.</summary>
    public bool DbxValidated { get; init; }

    /// <summary>Every EV_EFI_VARIABLE_AUTHORITY after the PCR 7 separator: what admitted boot code.</summary>
    public required IReadOnlyList<string> Authorities { get; init; }

    /// <summary>PE images measured into PCR 4, in order, with the authority that admitted each.</summary>
    public required IReadOnlyList<BootComponent> BootChain { get; init; }

    /// <summary>GRUB's commands (PCR 8).</summary>
    public required IReadOnlyList<string> GrubCommands { get; init; }

    /// <summary>Files GRUB read (PCR 9): path and digest.</summary>
    public required IReadOnlyList<MeasuredFileDigest> GrubFiles { get; init; }

    /// <summary>The last measured kernel command line.</summary>
    public string? KernelCommandLine { get; init; }

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

    /// <summary>File name from the device path (<c>grubx64.efi</c>), or a positional name when loaded from memory.</summary>
    public required string Name { get; init; }

    /// <summary>edk2 device-path text, when logged.</summary>
    public string? Path { get; init; }

    /// <summary>Bank of <see cref="Digest"/>.</summary>
    public required string Bank { get; init; }

    /// <summary>Authenticode digest, lowercase hex.</summary>
    public required string Digest { get; init; }

    /// <summary>What admitted the image (db certificate, shim vendor certificate, MokList), or null when none was logged.</summary>
    public string? Authority { get; init; }

    /// <summary>The admitting certificate's common name (or the hash kind), when the authority is a signature entry.</summary>
    public string? AuthorityName { get; init; }

    /// <summary>SHA-256 of the admitting certificate (or the admitting hash), lowercase hex.</summary>
    public string? AuthoritySha256 { get; init; }
}

/// <summary>A file GRUB measured (PCR 9).</summary>
public sealed record MeasuredFileDigest(string Path, string Digest);
