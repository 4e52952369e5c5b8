using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>
/// Microsoft's Secure Boot CAs, copied from microsoft/secureboot_objects (provenance and licence in
/// Templates/Certificates/README.md), each pinned by SHA-256.
/// </summary>
public static class MicrosoftCertificates
{
    /// <summary>Microsoft Corporation KEK CA 2011: signs Microsoft's db/dbx updates (expired 2026-06-24).</summary>
    public static MicrosoftCertificate KekCa2011 { get; } = new("Microsoft Corporation KEK CA 2011", MicrosoftCertificateDatabase.Kek, 2011,
        "MicCorKEKCA2011_2011-06-24.der", "a1117f516a32cefcba3f2d1ace10a87972fd6bbe8fe0d0b996e09e65d802a503");

    /// <summary>Microsoft Corporation KEK 2K CA 2023: signs Microsoft's db/dbx updates from 2023 on.</summary>
    public static MicrosoftCertificate KekCa2023 { get; } = new("Microsoft Corporation KEK 2K CA 2023", MicrosoftCertificateDatabase.Kek, 2023,
        "microsoft corporation kek 2k ca 2023.der", "3cd3f0309edae228767a976dd40d9f4affc4fbd5218f2e8cc3c9dd97e8ac6f9d");

    /// <summary>Microsoft Windows Production PCA 2011: signs Windows boot managers (expired 2026-10-19).</summary>
    public static MicrosoftCertificate WindowsProductionPca2011 { get; } = new("Microsoft Windows Production PCA 2011", MicrosoftCertificateDatabase.Db, 2011,
        "MicWinProPCA2011_2011-10-19.der", "e8e95f0733a55e8bad7be0a1413ee23c51fcea64b3c8fa6a786935fddcc71961");

    /// <summary>Microsoft Corporation UEFI CA 2011: signs third-party UEFI code: shim, option ROMs (expired 2026-06-27).</summary>
    public static MicrosoftCertificate UefiCa2011 { get; } = new("Microsoft Corporation UEFI CA 2011", MicrosoftCertificateDatabase.Db, 2011,
        "MicCorUEFCA2011_2011-06-27.der", "48e99b991f57fc52f76149599bff0a58c47154229b9f8d603ac40d3500248507");

    /// <summary>Windows UEFI CA 2023: signs Windows boot managers, successor of Windows Production PCA 2011.</summary>
    public static MicrosoftCertificate WindowsUefiCa2023 { get; } = new("Windows UEFI CA 2023", MicrosoftCertificateDatabase.Db, 2023,
        "windows uefi ca 2023.der", "076f1fea90ac29155ebf77c17682f75f1fdd1be196da302dc8461e350a9ae330");

    /// <summary>Microsoft UEFI CA 2023: signs third-party boot loaders (shim), successor of UEFI CA 2011 for them.</summary>
    public static MicrosoftCertificate UefiCa2023 { get; } = new("Microsoft UEFI CA 2023", MicrosoftCertificateDatabase.Db, 2023,
        "microsoft uefi ca 2023.der", "f6124e34125bee3fe6d79a574eaa7b91c0e7bd9d929c1a321178efd611dad901");

    /// <summary>Microsoft Option ROM UEFI CA 2023: signs third-party option ROMs, split from UEFI CA 2011.</summary>
    public static MicrosoftCertificate OptionRomUefiCa2023 { get; } = new("Microsoft Option ROM UEFI CA 2023", MicrosoftCertificateDatabase.Db, 2023,
        "microsoft option rom uefi ca 2023.der", "e5be3e64c6e66a281457ecdece0d6d0787577aad2a3a0144262c10c14ba8d8f1");

    /// <summary>Every embedded certificate: KEKs first, then db, 2011 before 2023.</summary>
    public static IReadOnlyList<MicrosoftCertificate> All { get; } =
        [KekCa2011, KekCa2023, WindowsProductionPca2011, UefiCa2011, WindowsUefiCa2023, UefiCa2023, OptionRomUefiCa2023];

    /// <summary>The Microsoft CA with this certificate's DER, or null for any other certificate.</summary>
    public static MicrosoftCertificate? Find(ReadOnlySpan<byte> der)
    {
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(der));
        return All.FirstOrDefault(c => c.Sha256 == sha256);
    }

    /// <summary>
    /// "KEK" or "db" for one of Microsoft's 2023 CAs, by its subject CN and organisation; null for any other
    /// certificate (<c>tl uefi vars create --microsoft-cert</c> routes a certificate file with it).
    /// </summary>
    public static string? DatabaseFor2023Ca(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        string cn = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        MicrosoftCertificate? known = All.FirstOrDefault(c => c.Generation == 2023 && c.CommonName == cn);
        if (known is null || !certificate.Subject.Contains("O=Microsoft Corporation", StringComparison.Ordinal))
            return null;
        return known.Database == MicrosoftCertificateDatabase.Kek ? "KEK" : "db";
    }

    /// <summary>Reads an embedded certificate and refuses it unless it hashes to <paramref name="sha256"/>.</summary>
    internal static ReadOnlyMemory<byte> LoadPinned(string fileName, string sha256)
    {
        using Stream stream = typeof(MicrosoftCertificates).Assembly.GetManifestResourceStream($"TrustedLaunch.Uefi.VariableStore.Certificates.{fileName}")
            ?? throw new MicrosoftCertificateException($"The embedded Microsoft certificate '{fileName}' is missing from the assembly.");
        var der = new byte[stream.Length];
        stream.ReadExactly(der);
        return CheckPinned(fileName, der, sha256);
    }

    /// <summary>Returns <paramref name="der"/> when its SHA-256 is <paramref name="sha256"/>; throws otherwise.</summary>
    internal static byte[] CheckPinned(string fileName, byte[] der, string sha256)
    {
        string actual = Convert.ToHexStringLower(SHA256.HashData(der));
        if (actual != sha256)
            throw new MicrosoftCertificateException($"The embedded Microsoft certificate '{fileName}' has SHA-256 {actual}, not the pinned {sha256}: refusing to enrol it.");
        return der;
    }
}
