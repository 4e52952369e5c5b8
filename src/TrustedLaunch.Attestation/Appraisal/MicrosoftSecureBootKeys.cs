namespace TrustedLaunch.Attestation;

/// <summary>
/// Microsoft's Secure Boot CAs (the 2011 set and the 2023 set that succeeds it), by SHA-256 of the DER certificate,
/// as Microsoft publishes them in microsoft/secureboot_objects and the <c>microsoft</c>, <c>microsoft-2023</c> and
/// <c>microsoft-2011</c> templates enrol them. Used to decide <c>x-ms-azurevm-default-securebootkeysvalidated</c>.
/// </summary>
public static class MicrosoftSecureBootKeys
{
    /// <summary>Microsoft Corporation KEK CA 2011 (KEK; expired 2026-06-24, still honoured by firmware).</summary>
    public const string KekCa2011 = "a1117f516a32cefcba3f2d1ace10a87972fd6bbe8fe0d0b996e09e65d802a503";

    /// <summary>Microsoft Corporation KEK 2K CA 2023 (KEK).</summary>
    public const string KekCa2023 = "3cd3f0309edae228767a976dd40d9f4affc4fbd5218f2e8cc3c9dd97e8ac6f9d";

    /// <summary>Microsoft Windows Production PCA 2011 (db; signs Windows boot managers; expired 2026-10-19).</summary>
    public const string WindowsProductionPca2011 = "e8e95f0733a55e8bad7be0a1413ee23c51fcea64b3c8fa6a786935fddcc71961";

    /// <summary>Microsoft Corporation UEFI CA 2011 (db; signs shim and third-party option ROMs; expired 2026-06-27).</summary>
    public const string UefiCa2011 = "48e99b991f57fc52f76149599bff0a58c47154229b9f8d603ac40d3500248507";

    /// <summary>Windows UEFI CA 2023 (db; signs Windows boot managers).</summary>
    public const string WindowsUefiCa2023 = "076f1fea90ac29155ebf77c17682f75f1fdd1be196da302dc8461e350a9ae330";

    /// <summary>Microsoft UEFI CA 2023 (db; signs shim and other third-party boot loaders).</summary>
    public const string UefiCa2023 = "f6124e34125bee3fe6d79a574eaa7b91c0e7bd9d929c1a321178efd611dad901";

    /// <summary>Microsoft Option ROM UEFI CA 2023 (db; signs third-party option ROMs).</summary>
    public const string OptionRomUefiCa2023 = "e5be3e64c6e66a281457ecdece0d6d0787577aad2a3a0144262c10c14ba8d8f1";

    /// <summary>The Microsoft KEK certificates recognised.</summary>
    public static IReadOnlySet<string> Kek { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { KekCa2011, KekCa2023 };

    /// <summary>The Microsoft db certificates recognised.</summary>
    public static IReadOnlySet<string> Db { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        WindowsProductionPca2011, UefiCa2011, WindowsUefiCa2023, UefiCa2023, OptionRomUefiCa2023,
    };

    /// <summary>
    /// KEK and db are Microsoft's defaults, in any of the three sets (2011, 2023, both): KEK holds at least one Microsoft
    /// KEK and nothing else but the PK's own certificate (platforms enrol their PK in KEK to sign db updates); db holds
    /// only Microsoft CAs, at least one. A hash in db, another vendor's certificate or an empty database is not default.
    /// </summary>
    public static bool AreDefault(SecureBootKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return keys.Kek.Count > 0 && keys.Db.Count > 0
            && keys.Kek.Any(k => Kek.Contains(k.Sha256))
            && keys.Kek.All(k => Kek.Contains(k.Sha256) || keys.Pk.Any(p => string.Equals(p.Sha256, k.Sha256, StringComparison.OrdinalIgnoreCase)))
            && keys.Db.All(k => Db.Contains(k.Sha256));
    }
}
