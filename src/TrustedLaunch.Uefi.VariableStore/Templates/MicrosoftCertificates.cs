using System.Security.Cryptography.X509Certificates;

namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>The Microsoft Secure Boot CAs of the <c>microsoft</c> template (embedded; provenance in Templates/Certificates/README.md).</summary>
public static class MicrosoftCertificates
{
    /// <summary>Microsoft Corporation KEK CA 2011: signs Microsoft's db/dbx updates.</summary>
    public static ReadOnlyMemory<byte> KekCa2011 { get; } = Load("MicCorKEKCA2011_2011-06-24.der");

    /// <summary>Microsoft Windows Production PCA 2011: signs Windows boot managers.</summary>
    public static ReadOnlyMemory<byte> WindowsProductionPca2011 { get; } = Load("MicWinProPCA2011_2011-10-19.der");

    /// <summary>Microsoft Corporation UEFI CA 2011: signs third-party UEFI code (shim, option ROMs).</summary>
    public static ReadOnlyMemory<byte> UefiCa2011 { get; } = Load("MicCorUEFCA2011_2011-06-27.der");

    /// <summary>Subject common names of the 2023 CAs and the database each belongs in (edk2 EnrollDefaultKeys, 2025).</summary>
    public static IReadOnlyDictionary<string, string> Ca2023Databases { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Microsoft Corporation KEK 2K CA 2023"] = "KEK",
        ["Windows UEFI CA 2023"] = "db",
        ["Microsoft UEFI CA 2023"] = "db",
        ["Microsoft Option ROM UEFI CA 2023"] = "db",
    };

    /// <summary>"KEK" or "db" for one of Microsoft's 2023 CAs, by its subject CN; null for any other certificate.</summary>
    public static string? DatabaseFor2023Ca(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        string cn = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return Ca2023Databases.TryGetValue(cn, out string? db) && certificate.Subject.Contains("O=Microsoft Corporation", StringComparison.Ordinal) ? db : null;
    }

    private static byte[] Load(string name)
    {
        using var stream = typeof(MicrosoftCertificates).Assembly.GetManifestResourceStream($"TrustedLaunch.Uefi.VariableStore.Certificates.{name}")
            ?? throw new InvalidOperationException($"Embedded certificate {name} is missing from the assembly.");
        var buffer = new byte[stream.Length];
        stream.ReadExactly(buffer);
        return buffer;
    }
}
