using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TrustedLaunch.Attestation.Tests.Verification;

/// <summary>
/// The AK certificate path checked without X509Chain: each rule of <see cref="AkCertificatePath"/> refuses the one
/// path that breaks it, and the genuine root → AK CA → AK path passes (with the earliest notAfter as its end).
/// </summary>
public sealed class AkCertificatePathTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 0, 0, 0, TimeSpan.Zero);

    private sealed record Pki(X509Certificate2 Root, X509Certificate2 Ca, X509Certificate2 Leaf)
    {
        public X509Certificate2Collection Authorities => [Ca, Root];
    }

    private static Pki Build(Action<CertificateRequest>? caExtensions = null, Action<CertificateRequest>? leafExtensions = null,
        int rootPathLength = 1, DateTimeOffset? caNotAfter = null, bool ecdsaCa = false)
    {
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var rootRequest = new CertificateRequest("CN=Test Root", rootKey, HashAlgorithmName.SHA384);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, rootPathLength, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        X509Certificate2 root = rootRequest.CreateSelfSigned(Now.AddYears(-1), Now.AddYears(10));

        using RSA rsaCaKey = RSA.Create(2048);
        using ECDsa ecCaKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest caRequest = ecdsaCa
            ? new CertificateRequest("CN=Test AK CA", ecCaKey, HashAlgorithmName.SHA256)
            : new CertificateRequest("CN=Test AK CA", rsaCaKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        if (caExtensions is null)
        {
            caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
            caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        }
        else
        {
            caExtensions(caRequest);
        }

        // The generator overloads: Create(issuerCertificate, …) would refuse the broken CAs these tests need.
        X509Certificate2 ca = caRequest.Create(root.SubjectName, X509SignatureGenerator.CreateForECDsa(rootKey), Now.AddDays(-30), caNotAfter ?? Now.AddYears(5), [1]);
        X509SignatureGenerator caSigner = ecdsaCa ? X509SignatureGenerator.CreateForECDsa(ecCaKey) : X509SignatureGenerator.CreateForRSA(rsaCaKey, RSASignaturePadding.Pkcs1);

        using RSA akKey = RSA.Create(2048);
        var leafRequest = new CertificateRequest("CN=6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b", akKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(AkCertificateValidator.AikCertificateEku)], false));
        leafExtensions?.Invoke(leafRequest);
        DateTimeOffset leafNotAfter = ca.NotAfter < Now.AddYears(1).UtcDateTime ? new DateTimeOffset(ca.NotAfter.ToUniversalTime()) : Now.AddYears(1);
        X509Certificate2 leaf = leafRequest.Create(ca.SubjectName, caSigner, Now.AddDays(-10), leafNotAfter, [2]);
        return new Pki(root, ca, leaf);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GenuinePath_Passes_EndsAtTheEarliestNotAfter(bool ecdsaCa)
    {
        Pki pki = Build(ecdsaCa: ecdsaCa, caNotAfter: Now.AddMonths(6));
        Assert.Null(AkCertificatePath.Failure(pki.Leaf, pki.Authorities, Now, out DateTimeOffset notAfter));
        Assert.Equal(Now.AddMonths(6), notAfter);
    }

    [Fact]
    public void NoSelfIssuedAnchor_Refused()
    {
        Pki pki = Build();
        Assert.Contains("no trust anchor", AkCertificatePath.Failure(pki.Leaf, [pki.Ca], Now, out _), StringComparison.Ordinal);
    }

    [Fact]
    public void IssuerNotAmongTheAuthorities_Refused()
    {
        Pki pki = Build();
        Pki other = Build();
        Assert.Contains("does not chain to the platform AK CA", AkCertificatePath.Failure(pki.Leaf, [other.Root], Now, out _), StringComparison.Ordinal);
    }

    [Fact]
    public void SameNamedCaWithAnotherKey_SignatureRefused()
    {
        Pki pki = Build();
        Pki impostor = Build();
        string? failure = AkCertificatePath.Failure(pki.Leaf, [impostor.Ca, pki.Root], Now, out _);
        Assert.Contains("does not verify with the key of 'CN=Test AK CA'", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void TamperedSignature_Refused()
    {
        Pki pki = Build();
        byte[] der = pki.Leaf.RawData;
        der[^5] ^= 0x01;
        using X509Certificate2 tampered = X509CertificateLoader.LoadCertificate(der);
        Assert.Contains("does not verify", AkCertificatePath.Failure(tampered, pki.Authorities, Now, out _), StringComparison.Ordinal);
    }

    [Fact]
    public void IssuerWithoutCaBasicConstraints_Refused()
    {
        Pki pki = Build(caExtensions: r => r.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true)));
        Assert.Contains("is not a CA", AkCertificatePath.Failure(pki.Leaf, pki.Authorities, Now, out _), StringComparison.Ordinal);
    }

    [Fact]
    public void IssuerWithoutKeyCertSign_Refused()
    {
        Pki pki = Build(caExtensions: r =>
        {
            r.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            r.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        });
        Assert.Contains("keyCertSign", AkCertificatePath.Failure(pki.Leaf, pki.Authorities, Now, out _), StringComparison.Ordinal);
    }

    [Fact]
    public void RootPathLengthZero_IntermediateCaRefused()
    {
        Pki pki = Build(rootPathLength: 0);
        Assert.Contains("allows 0 CA certificate(s) below it", AkCertificatePath.Failure(pki.Leaf, pki.Authorities, Now, out _), StringComparison.Ordinal);
    }

    [Fact]
    public void ExpiredIntermediate_Refused()
    {
        Pki pki = Build(caNotAfter: Now.AddDays(-2));
        Assert.Contains("is not valid at", AkCertificatePath.Failure(pki.Leaf, pki.Authorities, Now, out _), StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownCriticalExtensionOnTheLeaf_Refused()
    {
        Pki pki = Build(leafExtensions: r => r.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.99999.1", [0x05, 0x00], critical: true)));
        Assert.Contains("1.3.6.1.4.1.99999.1", AkCertificatePath.Failure(pki.Leaf, pki.Authorities, Now, out _), StringComparison.Ordinal);
    }
}
