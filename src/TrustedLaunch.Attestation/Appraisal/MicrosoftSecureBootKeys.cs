namespace TrustedLaunch.Attestation;

/// <summary>
/// The Microsoft certificates OVMF's Microsoft template (and every x86 cloud) enrols, by SHA-256 of the DER
/// certificate. Used to decide <c>x-ms-azurevm-default-securebootkeysvalidated</c>.
/// </summary>
public static class MicrosoftSecureBootKeys
{
    /// <summary>Microsoft Corporation KEK CA 2011 (KEK).</summary>
    public const string KekCa2011 = "a1117f516a32cefcba3f2d1ace10a87972fd6bbe8fe0d0b996e09e65d802a503";

    /// <summary>Microsoft Windows Production PCA 2011 (db; signs Windows boot managers).</summary>
    public const string WindowsProductionPca2011 = "e8e95f0733a55e8bad7be0a1413ee23c51fcea64b3c8fa6a786935fddcc71961";

    /// <summary>Microsoft Corporation UEFI CA 2011 (db; signs shim and third-party option ROMs).</summary>
    public const string UefiCa2011 = "48e99b991f57fc52f76149599bff0a58c47154229b9f8d603ac40d3500248507";

    /// <summary>The Microsoft KEK certificates recognised.</summary>
    public static IReadOnlySet<string> Kek { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { KekCa2011 };

    /// <summary>The Microsoft db certificates recognised.</summary>
    public static IReadOnlySet<string> Db { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { WindowsProductionPca2011, UefiCa2011 };
}
