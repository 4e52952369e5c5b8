using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>What an X.509 certificate in a signature database or authority event says, decoded on demand.</summary>
public sealed record CertificateInfo(string Subject, string Issuer, string SerialNumber, string Sha256Thumbprint, DateTimeOffset NotBefore, DateTimeOffset NotAfter)
{
    /// <summary>Decodes DER; null when it is not a certificate .NET can read.</summary>
    public static CertificateInfo? TryDecode(ReadOnlySpan<byte> der)
    {
        try
        {
            using var cert = X509CertificateLoader.LoadCertificate(der);
            return new CertificateInfo(cert.Subject, cert.Issuer, cert.SerialNumber,
                Convert.ToHexString(SHA256.HashData(der)), cert.NotBefore.ToUniversalTime(), cert.NotAfter.ToUniversalTime());
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>The subject's CN when present, else the whole subject.</summary>
    public string CommonName
    {
        get
        {
            foreach (string part in Subject.Split(", ", StringSplitOptions.None))
            {
                if (part.StartsWith("CN=", StringComparison.Ordinal))
                    return part[3..].Trim('"');
            }

            return Subject;
        }
    }
}

/// <summary>
/// One <c>EFI_SIGNATURE_DATA</c> of a PK/KEK/db/dbx/MokList variable: a certificate or a hash with its owner.
/// Certificates are decoded lazily (<see cref="Certificate"/>) so parsing a log stays cheap.
/// </summary>
public sealed class SignatureEntry
{
    private CertificateInfo? _certificate;
    private bool _decoded;

    public SignatureEntry(EfiSignatureKind kind, Guid? owner, ReadOnlyMemory<byte> data)
    {
        Kind = kind;
        Owner = owner;
        Data = data;
    }

    public EfiSignatureKind Kind { get; }

    /// <summary>SignatureOwner, or null where none was logged (shim's vendor certificate authority event).</summary>
    public Guid? Owner { get; }

    /// <summary>The DER certificate or the hash bytes.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    public bool IsCertificate => Kind == EfiSignatureKind.X509;

    /// <summary>The decoded certificate for X.509 entries (null for hashes or undecodable DER).</summary>
    public CertificateInfo? Certificate
    {
        get
        {
            if (!_decoded)
            {
                _certificate = IsCertificate ? CertificateInfo.TryDecode(Data.Span) : null;
                _decoded = true;
            }

            return _certificate;
        }
    }

    /// <summary>Hex of the hash for hash entries; the SHA-256 thumbprint for certificates.</summary>
    public string Fingerprint => IsCertificate ? Convert.ToHexString(SHA256.HashData(Data.Span)) : Convert.ToHexString(Data.Span);

    public string Describe() => IsCertificate
        ? Certificate is { } c ? $"X.509 {c.CommonName} (sha256 {c.Sha256Thumbprint[..16]}…)" : $"X.509 (undecodable, {Data.Length} bytes)"
        : $"{Kind} {Convert.ToHexString(Data.Span)}";
}

/// <summary>A signature database variable (PK, KEK, db, dbx, MokList, …): its lists, flattened to entries.</summary>
public sealed class SignatureDatabase
{
    public SignatureDatabase(IReadOnlyList<EfiSignatureList> lists)
    {
        ArgumentNullException.ThrowIfNull(lists);
        Lists = lists;
        var entries = new List<SignatureEntry>();
        foreach (var list in lists)
        {
            foreach (var s in list.Signatures)
                entries.Add(new SignatureEntry(list.Kind, s.Owner, s.Data));
        }

        Entries = entries;
    }

    public IReadOnlyList<EfiSignatureList> Lists { get; }

    public IReadOnlyList<SignatureEntry> Entries { get; }

    public IEnumerable<SignatureEntry> Certificates => Entries.Where(e => e.IsCertificate);

    public IEnumerable<SignatureEntry> Hashes => Entries.Where(e => !e.IsCertificate);

    public string Describe() => Entries.Count == 0 ? "empty" : $"{Certificates.Count()} certificates, {Hashes.Count()} hashes";
}
