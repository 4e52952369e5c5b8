using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Rules;

namespace TrustedLaunch.ControlPlane.Services;

/// <summary>Checks the entries of <c>trustedLaunchExtensions.secureBootKeys</c>: base64 DER certificates (dbx may also hold <c>sha256:&lt;hex&gt;</c>).</summary>
internal static class SecureBootKeyCheck
{
    private const string Path = "properties.trustedLaunchExtensions.secureBootKeys";

    public static IReadOnlyList<FactLocation> Problems(SecureBootKeys? keys)
    {
        if (keys is null)
            return [];
        var problems = new List<FactLocation>();
        if (keys.PlatformKey is not null && Certificate(keys.PlatformKey) is string pk)
            problems.Add(new FactLocation($"{Path}.platformKey", pk));
        Check("kek", keys.Kek, allowDigest: false, problems);
        Check("db", keys.Db, allowDigest: false, problems);
        Check("dbx", keys.Dbx, allowDigest: true, problems);
        return problems;
    }

    private static void Check(string name, IReadOnlyList<string>? entries, bool allowDigest, List<FactLocation> problems)
    {
        for (int i = 0; i < (entries?.Count ?? 0); i++)
        {
            string entry = entries![i] ?? "";
            string? problem = allowDigest && entry.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase) ? Digest(entry[7..]) : Certificate(entry);
            if (problem is not null)
                problems.Add(new FactLocation(string.Create(CultureInfo.InvariantCulture, $"{Path}.{name}[{i}]"), problem));
        }
    }

    private static string? Digest(string hex) =>
        hex.Length == 64 && hex.All(char.IsAsciiHexDigit) ? null : "a sha256: entry needs 64 hexadecimal digits";

    private static string? Certificate(string base64)
    {
        byte[] der;
        try
        {
            der = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            return "it is not base64";
        }

        try
        {
            using X509Certificate2 certificate = X509CertificateLoader.LoadCertificate(der);
            return null;
        }
        catch (CryptographicException)
        {
            return "it is not a DER X.509 certificate";
        }
    }
}
