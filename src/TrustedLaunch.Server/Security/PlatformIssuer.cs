using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.Server.Security;

/// <summary>The platform CA is missing or cannot issue (no root key in the folder).</summary>
public sealed class PlatformIssuerException : Exception
{
    public PlatformIssuerException() { }

    public PlatformIssuerException(string message) : base(message) { }

    public PlatformIssuerException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// The service's certificates from the platform CA's root (<see cref="PlatformCaLayout"/>): host client certificates
/// at enrollment (clientAuth, the host name as CN, issued straight by the root so nothing the vTPM CAs issue can pass
/// as one) and the server's own TLS certificate. Validates a presented host certificate against the same root.
/// </summary>
public sealed class PlatformIssuer
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private readonly string _keyPath;

    private PlatformIssuer(X509Certificate2 root, string keyPath)
    {
        Root = root;
        _keyPath = keyPath;
    }

    public X509Certificate2 Root { get; }

    /// <summary>The issuer of the folder <paramref name="caDirectory"/>; null when there is no folder.</summary>
    /// <exception cref="PlatformIssuerException">The root certificate cannot be read.</exception>
    public static PlatformIssuer? Open(string? caDirectory)
    {
        if (caDirectory is null)
            return null;
        string certificate = PlatformCaLayout.CertificatePath(caDirectory, PlatformCaLayout.RootName);
        try
        {
            return new PlatformIssuer(X509Certificate2.CreateFromPem(File.ReadAllText(certificate)), PlatformCaLayout.KeyPath(caDirectory, PlatformCaLayout.RootName));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new PlatformIssuerException($"The platform root CA {certificate} cannot be read: {e.Message}", e);
        }
    }

    /// <summary>A client certificate for host <paramref name="hostName"/> over the key of a PKCS#10 request (whose signature is checked).</summary>
    /// <exception cref="PlatformIssuerException">The request is not a valid PEM CSR, or the root key cannot be read.</exception>
    public X509Certificate2 IssueHostCertificate(string hostName, string csrPem, DateTimeOffset now, TimeSpan lifetime)
    {
        CertificateRequest csr;
        try
        {
            csr = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
        }
        catch (CryptographicException e)
        {
            throw new PlatformIssuerException($"The certificate signing request is not a valid PEM PKCS#10 request: {e.Message}", e);
        }

        // Only the key is taken from the request: the subject and every extension are ours.
        var request = new CertificateRequest(new X500DistinguishedName($"CN={hostName}, OU=tl-host"), csr.PublicKey, HashAlgorithmName.SHA384);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ClientAuthentication], true));
        return Sign(request, now, lifetime);
    }

    /// <summary>A TLS server certificate and its key for <paramref name="names"/> (DNS names or IP addresses).</summary>
    public X509Certificate2 IssueServerCertificate(IEnumerable<string> names, DateTimeOffset now, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(names);
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=tl server, OU=tl-server", key, HashAlgorithmName.SHA256);
        var alternative = new SubjectAlternativeNameBuilder();
        foreach (string name in names.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(name.Trim('[', ']'), out IPAddress? address))
                alternative.AddIpAddress(address);
            else
                alternative.AddDnsName(name);
        }

        request.CertificateExtensions.Add(alternative.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuthentication], true));
        using X509Certificate2 certificate = Sign(request, now, lifetime);
        using X509Certificate2 withKey = certificate.CopyWithPrivateKey(key);
        // Kestrel on Linux needs the key in an exportable, loadable form: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>
    /// True when <paramref name="certificate"/> is a host client certificate of this root: issued directly by it,
    /// within its validity, for client authentication. Its serial must also be one the service issued (checked by the caller).
    /// </summary>
    public bool IsHostCertificate(X509Certificate2 certificate, DateTimeOffset now, out string? hostName)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        hostName = null;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        if (!chain.Build(certificate) || chain.ChainElements.Count != 2 || !chain.ChainElements[1].Certificate.RawDataMemory.Span.SequenceEqual(Root.RawDataMemory.Span))
            return false;
        hostName = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return TrustedLaunch.ControlPlane.Arm.ArmNames.IsHostName(hostName);
    }

    private X509Certificate2 Sign(CertificateRequest request, DateTimeOffset now, TimeSpan lifetime)
    {
        using ECDsa rootKey = ECDsa.Create();
        try
        {
            rootKey.ImportFromPem(File.ReadAllText(_keyPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or CryptographicException)
        {
            throw new PlatformIssuerException($"The platform root CA key {_keyPath} cannot be read ({e.Message}); certificates are issued by the service that holds it.", e);
        }

        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Root, true, false));
        DateTimeOffset notAfter = now + lifetime;
        if (notAfter > Root.NotAfter)
            notAfter = Root.NotAfter;
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        return request.Create(Root.SubjectName, X509SignatureGenerator.CreateForECDsa(rootKey), now.AddMinutes(-5), notAfter, serial);
    }
}
