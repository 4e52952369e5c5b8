using System.Globalization;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>
/// Windows boot claims from the WBCL SIPA records in PCR12–14 (fact sheet §6). As go-attestation does, switches
/// that weaken security are latched on (any 1 → true: boot/kernel debugging, test signing) and protections are
/// latched off (any 0 → false: code integrity, DEP).
/// </summary>
public sealed record WindowsBootState
{
    public ulong? BootCount { get; init; }

    public bool? BootDebugging { get; init; }

    public bool? KernelDebugging { get; init; }

    public bool? TestSigning { get; init; }

    public bool? CodeIntegrity { get; init; }

    public bool? DataExecutionPrevention { get; init; }

    public bool? SafeMode { get; init; }

    public bool? WinPe { get; init; }

    public bool? HypervisorDebugging { get; init; }

    public ulong? HypervisorLaunchType { get; init; }

    public ulong? VsmLaunchType { get; init; }

    public bool? VbsVsmRequired { get; init; }

    public bool? VbsSecureBootRequired { get; init; }

    public bool? VbsIommuRequired { get; init; }

    public ulong? HvciPolicy { get; init; }

    /// <summary>VBS configured: VBS_VSM_REQUIRED = 1 or VSM_LAUNCH_TYPE ≠ 0 (the bit meanings are not public).</summary>
    public bool VbsConfigured => VbsVsmRequired == true || VsmLaunchType is > 0;

    /// <summary>HVCI configured: VBS_HVCI_POLICY ≠ 0.</summary>
    public bool HvciConfigured => HvciPolicy is > 0;

    /// <summary>BITLOCKER_UNLOCK flags per unlock (CACHED 1, MEDIA 2, TPM 4, PIN 0x10, EXTERNAL 0x20, RECOVERY 0x40, PASSPHRASE 0x80, NBP 0x100).</summary>
    public required IReadOnlyList<uint> BitLockerUnlocks { get; init; }

    /// <summary>TRANSFER_CONTROL values (1 OS loader, 2 resume, 3 MS utility, 4 no sig check, 5 hypervisor).</summary>
    public required IReadOnlyList<uint> TransferControls { get; init; }

    public required IReadOnlyList<ElamDriver> ElamDrivers { get; init; }

    public required IReadOnlyList<WindowsLoadedModule> LoadedModules { get; init; }
}

/// <summary>An early-launch anti-malware driver's ELAM_AGGREGATION: key name and its measured policy digest.</summary>
public sealed record ElamDriver(string KeyName, string? Measured);

/// <summary>One LOADEDMODULE_AGGREGATION: a driver or boot application Windows' loader measured.</summary>
public sealed record WindowsLoadedModule
{
    public string? FilePath { get; init; }

    public string? AuthenticodeHash { get; init; }

    /// <summary>CALG hash id &amp; 0xFF: 4 SHA1, 0xC SHA256, 0xD SHA384, 0xE SHA512.</summary>
    public uint? HashAlgorithm { get; init; }

    public ulong? ImageBase { get; init; }

    public ulong? ImageSize { get; init; }

    public string? AuthorityIssuer { get; init; }

    public string? AuthorityPublisher { get; init; }

    public string? AuthoritySerial { get; init; }

    public string? AuthoritySha1Thumbprint { get; init; }

    public bool? ImageValidated { get; init; }

    internal WindowsLoadedModule Merge(WindowsLoadedModule other) => this with
    {
        FilePath = FilePath ?? other.FilePath,
        HashAlgorithm = HashAlgorithm ?? other.HashAlgorithm,
        ImageBase = ImageBase ?? other.ImageBase,
        ImageSize = ImageSize ?? other.ImageSize,
        AuthorityIssuer = AuthorityIssuer ?? other.AuthorityIssuer,
        AuthorityPublisher = AuthorityPublisher ?? other.AuthorityPublisher,
        AuthoritySerial = AuthoritySerial ?? other.AuthoritySerial,
        AuthoritySha1Thumbprint = AuthoritySha1Thumbprint ?? other.AuthoritySha1Thumbprint,
        ImageValidated = ImageValidated ?? other.ImageValidated,
    };

    internal static WindowsLoadedModule From(SipaRecord aggregation)
    {
        var m = new WindowsLoadedModule();
        foreach (var r in aggregation.Children ?? [])
        {
            m = r.Type switch
            {
                SipaNames.FilePath => m with { FilePath = r.Utf16Value },
                SipaNames.AuthenticodeHash => m with { AuthenticodeHash = Convert.ToHexString(r.Data.Span) },
                SipaNames.HashAlgorithmId => m with { HashAlgorithm = r.IntegerValue is ulong v ? (uint)(v & 0xFF) : null },
                SipaNames.ImageBase => m with { ImageBase = r.IntegerValue },
                SipaNames.ImageSize => m with { ImageSize = r.IntegerValue },
                SipaNames.AuthorityIssuer => m with { AuthorityIssuer = r.Utf16Value },
                SipaNames.AuthorityPublisher => m with { AuthorityPublisher = r.Utf16Value },
                SipaNames.AuthoritySerial => m with { AuthoritySerial = Convert.ToHexString(r.Data.Span) },
                SipaNames.AuthoritySha1Thumbprint => m with { AuthoritySha1Thumbprint = Convert.ToHexString(r.Data.Span) },
                SipaNames.ImageValidated => m with { ImageValidated = r.IntegerValue is ulong b ? b != 0 : null },
                _ => m,
            };
        }

        return m;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{FilePath} {AuthenticodeHash}");
}
