using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.VTpm.Identity;

/// <summary>One issuing authority: its certificate and a way to sign with its key (a file today, an HSM later).</summary>
public interface ICertificateAuthority
{
    X509Certificate2 Certificate { get; }

    /// <summary>Signs certificates with the CA key (the key itself may never leave an HSM).</summary>
    X509SignatureGenerator CreateSignatureGenerator();

    /// <summary>The hash the CA signs with (SHA-384 for P-384 keys).</summary>
    HashAlgorithmName SignatureHash { get; }
}

/// <summary>The platform PKI for vTPMs: a root, the vTPM EK CA and the vTPM AK CA (both issued by the root).</summary>
public interface IPlatformCa
{
    X509Certificate2 RootCertificate { get; }

    ICertificateAuthority EndorsementKeyCa { get; }

    ICertificateAuthority AttestationKeyCa { get; }
}

/// <summary>
/// A <see cref="IPlatformCa"/> kept as PEM files in one folder laid out as <see cref="PlatformCaLayout"/> says:
/// <c>root-ca.{crt,key}</c>, <c>vtpm-ek-ca.{crt,key}</c>, <c>vtpm-ak-ca.{crt,key}</c>; keys are ECDSA P-384 PKCS#8
/// with mode 0600.
/// </summary>
public sealed class FilePlatformCa : IPlatformCa
{
    private const string RootName = PlatformCaLayout.RootName;
    private const string EndorsementKeyCaName = PlatformCaLayout.EndorsementKeyCaName;
    private const string AttestationKeyCaName = PlatformCaLayout.AttestationKeyCaName;

    private FilePlatformCa(string directory, X509Certificate2 root, FileCertificateAuthority ek, FileCertificateAuthority ak)
    {
        Directory = directory;
        RootCertificate = root;
        EndorsementKeyCa = ek;
        AttestationKeyCa = ak;
    }

    public string Directory { get; }

    public X509Certificate2 RootCertificate { get; }

    public ICertificateAuthority EndorsementKeyCa { get; }

    public ICertificateAuthority AttestationKeyCa { get; }

    /// <summary>Creates the three CAs in <paramref name="directory"/>; refuses if any of their files exists.</summary>
    /// <exception cref="PlatformCaException">The folder already holds a CA, or cannot be written.</exception>
    public static FilePlatformCa Create(string directory, string organization, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        DateTimeOffset now = (time ?? TimeProvider.System).GetUtcNow();
        System.IO.Directory.CreateDirectory(directory);
        foreach (string name in PlatformCaLayout.Authorities)
        {
            if (File.Exists(PlatformCaLayout.KeyPath(directory, name)) || File.Exists(PlatformCaLayout.CertificatePath(directory, name)))
                throw new PlatformCaException($"{directory} already holds a CA ({name}); refusing to replace a platform PKI");
        }

        using ECDsa rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var rootRequest = CaRequest($"CN={organization} Platform Root CA, O={organization}", rootKey, pathLength: 1);
        using X509Certificate2 root = rootRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(25));
        Write(directory, RootName, root, rootKey);

        using ECDsa ekKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using X509Certificate2 ek = Issue(CaRequest($"CN={organization} vTPM EK CA, O={organization}", ekKey, pathLength: 0), root, rootKey, now, 20);
        Write(directory, EndorsementKeyCaName, ek, ekKey);

        using ECDsa akKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using X509Certificate2 ak = Issue(CaRequest($"CN={organization} vTPM AK CA, O={organization}", akKey, pathLength: 0), root, rootKey, now, 20);
        Write(directory, AttestationKeyCaName, ak, akKey);
        return Open(directory);
    }

    /// <summary>Opens an existing CA folder.</summary>
    /// <exception cref="PlatformCaException">A file is missing or unreadable, or a key does not match its certificate.</exception>
    public static FilePlatformCa Open(string directory)
    {
        X509Certificate2 root = LoadCertificate(directory, RootName);
        return new FilePlatformCa(directory, root,
            new FileCertificateAuthority(LoadCertificate(directory, EndorsementKeyCaName), PlatformCaLayout.KeyPath(directory, EndorsementKeyCaName)),
            new FileCertificateAuthority(LoadCertificate(directory, AttestationKeyCaName), PlatformCaLayout.KeyPath(directory, AttestationKeyCaName)));
    }

    private static CertificateRequest CaRequest(string subject, ECDsa key, int pathLength)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA384);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, pathLength, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request;
    }

    private static X509Certificate2 Issue(CertificateRequest request, X509Certificate2 issuer, ECDsa issuerKey, DateTimeOffset now, int years)
    {
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        return request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), now.AddMinutes(-5),
            now.AddYears(years), RandomSerial());
    }

    /// <summary>A positive 16-byte random serial number (RFC 5280 §4.1.2.2: ≤ 20 octets, unique per issuer).</summary>
    public static byte[] RandomSerial()
    {
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        return serial;
    }

    private static void Write(string directory, string name, X509Certificate2 certificate, ECDsa key)
    {
        OwnerOnlyFile.WriteNew(PlatformCaLayout.KeyPath(directory, name), Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem()));
        DurableFile.Write(PlatformCaLayout.CertificatePath(directory, name), Encoding.ASCII.GetBytes(certificate.ExportCertificatePem() + "\n"), overwrite: false);
    }

    private static X509Certificate2 LoadCertificate(string directory, string name)
    {
        string path = PlatformCaLayout.CertificatePath(directory, name);
        try
        {
            return X509Certificate2.CreateFromPem(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new PlatformCaException($"CA certificate {path} cannot be read: {e.Message} (create the PKI with 'tl ca init')", e);
        }
    }

    private sealed class FileCertificateAuthority(X509Certificate2 certificate, string keyPath) : ICertificateAuthority
    {
        public X509Certificate2 Certificate { get; } = certificate;

        public HashAlgorithmName SignatureHash => HashAlgorithmName.SHA384;

        public X509SignatureGenerator CreateSignatureGenerator()
        {
            ECDsa key = ECDsa.Create();
            try
            {
                key.ImportFromPem(File.ReadAllText(keyPath));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or CryptographicException)
            {
                key.Dispose();
                throw new PlatformCaException($"CA key {keyPath} cannot be read: {e.Message}", e);
            }

            using ECDsa? certificateKey = Certificate.GetECDsaPublicKey();
            if (certificateKey is null || !certificateKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
            {
                key.Dispose();
                throw new PlatformCaException($"CA key {keyPath} does not belong to certificate {Certificate.Subject}");
            }

            return X509SignatureGenerator.CreateForECDsa(key);
        }
    }
}

/// <summary>The platform CA cannot be created, opened or used.</summary>
public sealed class PlatformCaException : Exception
{
    public PlatformCaException() { }

    public PlatformCaException(string message) : base(message) { }

    public PlatformCaException(string message, Exception innerException) : base(message, innerException) { }
}
