namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>
/// The templates by name, as the CLI, the VMGS identity entry and the control plane spell them, and the Microsoft CAs
/// each enrols (docs/secureboot-rollover.md).
/// </summary>
public static class SecureBootTemplates
{
    public const string Microsoft = "microsoft";
    public const string Microsoft2023 = "microsoft-2023";
    public const string Microsoft2011 = "microsoft-2011";
    public const string Custom = "custom";
    public const string Empty = "empty";

    private static readonly IReadOnlyList<MicrosoftCertificate> Both =
    [
        MicrosoftCertificates.KekCa2011, MicrosoftCertificates.KekCa2023,
        MicrosoftCertificates.WindowsProductionPca2011, MicrosoftCertificates.UefiCa2011,
        MicrosoftCertificates.WindowsUefiCa2023, MicrosoftCertificates.UefiCa2023, MicrosoftCertificates.OptionRomUefiCa2023,
    ];

    private static readonly IReadOnlyList<MicrosoftCertificate> Only2023 =
    [
        MicrosoftCertificates.KekCa2023,
        MicrosoftCertificates.WindowsUefiCa2023, MicrosoftCertificates.UefiCa2023, MicrosoftCertificates.OptionRomUefiCa2023,
    ];

    // Order as OVMF EnrollDefaultKeys wrote Debian 12's OVMF_VARS_4M.ms.fd: its db is byte-identical.
    private static readonly IReadOnlyList<MicrosoftCertificate> Only2011 =
    [
        MicrosoftCertificates.KekCa2011,
        MicrosoftCertificates.WindowsProductionPca2011, MicrosoftCertificates.UefiCa2011,
    ];

    /// <summary>Every template name, the default first.</summary>
    public static IReadOnlyList<string> Names { get; } = [Microsoft, Microsoft2023, Microsoft2011, Custom, Empty];

    public static string NameOf(SecureBootTemplate template) => template switch
    {
        SecureBootTemplate.Microsoft => Microsoft,
        SecureBootTemplate.Microsoft2023 => Microsoft2023,
        SecureBootTemplate.Microsoft2011 => Microsoft2011,
        SecureBootTemplate.Custom => Custom,
        SecureBootTemplate.Empty => Empty,
        _ => throw new ArgumentOutOfRangeException(nameof(template), template, "not a Secure Boot template"),
    };

    /// <summary>The template a name means (ordinal, case-insensitive, as ARM compares names); false for any other text.</summary>
    public static bool TryParse(string? name, out SecureBootTemplate template)
    {
        foreach (SecureBootTemplate candidate in Enum.GetValues<SecureBootTemplate>())
        {
            if (string.Equals(name, NameOf(candidate), StringComparison.OrdinalIgnoreCase))
            {
                template = candidate;
                return true;
            }
        }

        template = default;
        return false;
    }

    /// <summary>
    /// The Microsoft CAs the template enrols, KEK before db, each in the order they are written. <c>microsoft</c> lists
    /// the 2011 set first, then the 2023 one: the same db a 2011 store has after Microsoft's 2023 CAs were appended.
    /// </summary>
    public static IReadOnlyList<MicrosoftCertificate> MicrosoftKeys(SecureBootTemplate template) => template switch
    {
        SecureBootTemplate.Microsoft => Both,
        SecureBootTemplate.Microsoft2023 => Only2023,
        SecureBootTemplate.Microsoft2011 => Only2011,
        _ => [],
    };
}
