using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>Generates a per-VM platform key: RSA-2048 (the size every edk2 accepts), self-signed, SHA-256.</summary>
public static class PlatformKeyGenerator
{
    /// <summary>A self-signed PK certificate with its private key, valid from 2010-01-01 for 100 years (edk2 ignores validity).</summary>
    public static X509Certificate2 Generate(string commonName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commonName);
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={commonName.Replace(",", "\\,", StringComparison.Ordinal)}"),
            rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var notBefore = new DateTimeOffset(2010, 1, 1, 0, 0, 0, TimeSpan.Zero);
        return request.CreateSelfSigned(notBefore, notBefore.AddYears(100));
    }
}
