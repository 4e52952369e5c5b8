using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Uefi.VariableStore.Tests.Templates;

/// <summary>The embedded Microsoft CAs: pinned, what their names say, and what the provenance README lists.</summary>
public sealed class MicrosoftCertificatesTests
{
    private static readonly string Readme = Path.Combine(RepositoryPaths.RepositoryRoot,
        "src", "TrustedLaunch.Uefi.VariableStore", "Templates", "Certificates", "README.md");

    public static TheoryData<string> Names => new(MicrosoftCertificates.All.Select(c => c.CommonName));

    [Theory]
    [MemberData(nameof(Names))]
    public void Embedded_IsThePinnedMicrosoftRsaCaItsNameSays(string commonName)
    {
        MicrosoftCertificate known = MicrosoftCertificates.All.Single(c => c.CommonName == commonName);

        Assert.Equal(known.Sha256, Convert.ToHexStringLower(SHA256.HashData(known.Der.Span)));
        using X509Certificate2 certificate = X509CertificateLoader.LoadCertificate(known.Der.Span);
        Assert.Equal(commonName, certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false));
        Assert.Contains("O=Microsoft Corporation", certificate.Subject, StringComparison.Ordinal);
        Assert.Equal(known.Generation, certificate.NotBefore.Year);
        using RSA? rsa = certificate.GetRSAPublicKey();
        Assert.NotNull(rsa); // edk2 enrols only RSA certificates
        Assert.Same(known, MicrosoftCertificates.Find(known.Der.Span));
    }

    [Fact]
    public void Embedded_EveryResourceIsOneOfThePinnedCertificates()
    {
        string[] resources = [.. typeof(MicrosoftCertificates).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("TrustedLaunch.Uefi.VariableStore.Certificates.", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

        Assert.Equal(MicrosoftCertificates.All.Select(c => $"TrustedLaunch.Uefi.VariableStore.Certificates.{c.FileName}").Order(StringComparer.Ordinal), resources);
    }

    [Fact]
    public void CheckPinned_OneByteChanged_Refused()
    {
        MicrosoftCertificate known = MicrosoftCertificates.UefiCa2023;
        byte[] tampered = known.Der.ToArray();
        tampered[^1] ^= 1;

        var refused = Assert.Throws<MicrosoftCertificateException>(() => MicrosoftCertificates.CheckPinned(known.FileName, tampered, known.Sha256));
        Assert.Contains(known.FileName, refused.Message, StringComparison.Ordinal);
        Assert.Contains(known.Sha256, refused.Message, StringComparison.Ordinal);
        byte[] genuine = known.Der.ToArray();
        Assert.Same(genuine, MicrosoftCertificates.CheckPinned(known.FileName, genuine, known.Sha256));
    }

    [Fact]
    public void Readme_ListsEveryCertificateWithItsPinnedHashes()
    {
        string[] rows = File.ReadAllLines(Readme);
        foreach (MicrosoftCertificate known in MicrosoftCertificates.All)
        {
            string row = Assert.Single(rows, r => r.Contains($"/{known.FileName}`", StringComparison.Ordinal));
            Assert.Contains($"`{known.Sha256}`", row, StringComparison.Ordinal);
            Assert.Contains($"`{Convert.ToHexStringLower(SHA1.HashData(known.Der.Span))}`", row, StringComparison.Ordinal);
            Assert.Contains($"| {known.CommonName} |", row, StringComparison.Ordinal);
            Assert.Contains(known.Database == MicrosoftCertificateDatabase.Kek ? "| KEK |" : "| db |", row, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void DatabaseFor2023Ca_RoutesThe2023CasOnly()
    {
        using X509Certificate2 kek = X509CertificateLoader.LoadCertificate(MicrosoftCertificates.KekCa2023.Der.Span);
        using X509Certificate2 uefi = X509CertificateLoader.LoadCertificate(MicrosoftCertificates.UefiCa2023.Der.Span);
        using X509Certificate2 old = X509CertificateLoader.LoadCertificate(MicrosoftCertificates.UefiCa2011.Der.Span);

        Assert.Equal("KEK", MicrosoftCertificates.DatabaseFor2023Ca(kek));
        Assert.Equal("db", MicrosoftCertificates.DatabaseFor2023Ca(uefi));
        Assert.Null(MicrosoftCertificates.DatabaseFor2023Ca(old));
    }
}
