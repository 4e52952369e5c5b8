using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Pe.Authenticode;
using TrustedLaunch.Pe.Authenticode.Signatures;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.SecureBoot;

/// <summary>Where an EFI_SIGNATURE_DATA sits: variable, list and entry index, owner and what it is.</summary>
public sealed record DatabaseEntry
{
    /// <summary>"db" or "dbx".</summary>
    public required string Database { get; init; }

    public required int ListIndex { get; init; }

    public required int EntryIndex { get; init; }

    public required EfiSignatureKind Kind { get; init; }

    public required Guid Owner { get; init; }

    /// <summary>Certificate subject for X.509 entries.</summary>
    public string? Subject { get; init; }

    /// <summary>SHA-256 of the DER for X.509 entries; the hash itself (lower-case hex) for hash entries.</summary>
    public required string Value { get; init; }

    public override string ToString() =>
        Subject is not null
            ? $"{Database}[{ListIndex}][{EntryIndex}] X509 '{Subject}' (sha256 {Value}, owner {Owner})"
            : $"{Database}[{ListIndex}][{EntryIndex}] {Kind} {Value} (owner {Owner})";
}

/// <summary>A certificate entry of db or dbx, decoded once.</summary>
public sealed record DatabaseCertificate(DatabaseEntry Entry, X509Certificate2 Certificate);

/// <summary>
/// The image security databases the firmware consults (db, dbx) and whether it enforces them at all. Built from a
/// variable store or directly from signature lists.
/// </summary>
public sealed class ImageSecurityDatabases
{
    private readonly IReadOnlyList<EfiSignatureList> _db;
    private readonly IReadOnlyList<EfiSignatureList> _dbx;

    public ImageSecurityDatabases(IReadOnlyList<EfiSignatureList>? db, IReadOnlyList<EfiSignatureList>? dbx, bool secureBootEnforced = true)
    {
        _db = db ?? [];
        _dbx = dbx ?? [];
        DbPresent = db is { Count: > 0 };
        DbxPresent = dbx is { Count: > 0 };
        SecureBootEnforced = secureBootEnforced;
        DbCertificates = LoadCertificates("db", _db);
        DbxCertificates = LoadCertificates("dbx", _dbx);
    }

    /// <summary>The SecureBoot variable the firmware computes at boot: PK enrolled and SecureBootEnable not 0.</summary>
    public bool SecureBootEnforced { get; }

    public bool DbPresent { get; }

    public bool DbxPresent { get; }

    public IReadOnlyList<DatabaseCertificate> DbCertificates { get; }

    public IReadOnlyList<DatabaseCertificate> DbxCertificates { get; }

    /// <summary>The databases of an OVMF variable store, as the firmware will see them at the next boot.</summary>
    public static ImageSecurityDatabases FromVariableStore(OvmfVariableStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        var databases = store.SecureBoot;
        return new ImageSecurityDatabases(databases.Db?.Lists, databases.Dbx?.Lists, databases.SecureBootEnforced);
    }

    /// <summary>The db entry of type <paramref name="kind"/> equal to <paramref name="digest"/> (edk2 IsSignatureFoundInDatabase).</summary>
    public DatabaseEntry? FindDbHash(EfiSignatureKind kind, ReadOnlySpan<byte> digest) => FindHash("db", _db, kind, digest);

    /// <summary>The dbx entry of type <paramref name="kind"/> equal to <paramref name="digest"/>.</summary>
    public DatabaseEntry? FindDbxHash(EfiSignatureKind kind, ReadOnlySpan<byte> digest) => FindHash("dbx", _dbx, kind, digest);

    /// <summary>
    /// The dbx EFI_CERT_X509_SHA256/384/512 entry revoking <paramref name="certificate"/> by the hash of its TBSCertificate
    /// (edk2 IsCertHashFoundInDbx), or null.
    /// </summary>
    public DatabaseEntry? FindRevokedCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ReadOnlyMemory<byte> tbs;
        try
        {
            tbs = CertificateIssuance.TbsCertificate(certificate.RawData);
        }
        catch (AuthenticodeException)
        {
            return null;
        }

        for (int l = 0; l < _dbx.Count; l++)
        {
            var list = _dbx[l];
            HashAlgorithmName? algorithm = list.Kind switch
            {
                EfiSignatureKind.X509Sha256 => HashAlgorithmName.SHA256,
                EfiSignatureKind.X509Sha384 => HashAlgorithmName.SHA384,
                EfiSignatureKind.X509Sha512 => HashAlgorithmName.SHA512,
                _ => null,
            };
            if (algorithm is not { } alg)
                continue;
            byte[] digest = Hash(alg, tbs.Span);
            for (int e = 0; e < list.Signatures.Count; e++)
            {
                // EFI_CERT_X509_SHA*: the TBS hash followed by an EFI_TIME TimeOfRevocation.
                if (list.Signatures[e].Data.Span.StartsWith(digest))
                    return Describe("dbx", l, e, list.Kind, list.Signatures[e]);
            }
        }

        return null;
    }

    private static DatabaseEntry? FindHash(string database, IReadOnlyList<EfiSignatureList> lists, EfiSignatureKind kind, ReadOnlySpan<byte> digest)
    {
        for (int l = 0; l < lists.Count; l++)
        {
            var list = lists[l];
            if (list.Kind != kind)
                continue;
            for (int e = 0; e < list.Signatures.Count; e++)
            {
                if (list.Signatures[e].Data.Span.SequenceEqual(digest))
                    return Describe(database, l, e, kind, list.Signatures[e]);
            }
        }

        return null;
    }

    private static List<DatabaseCertificate> LoadCertificates(string database, IReadOnlyList<EfiSignatureList> lists)
    {
        var result = new List<DatabaseCertificate>();
        for (int l = 0; l < lists.Count; l++)
        {
            if (lists[l].Kind != EfiSignatureKind.X509)
                continue;
            for (int e = 0; e < lists[l].Signatures.Count; e++)
            {
                var data = lists[l].Signatures[e];
                X509Certificate2 certificate;
                try
                {
                    certificate = X509CertificateLoader.LoadCertificate(data.Data.Span);
                }
                catch (CryptographicException)
                {
                    continue; // The firmware cannot use an unparsable certificate either: it never verifies anything.
                }

                result.Add(new DatabaseCertificate(Describe(database, l, e, EfiSignatureKind.X509, data) with { Subject = certificate.Subject }, certificate));
            }
        }

        return result;
    }

    private static DatabaseEntry Describe(string database, int list, int entry, EfiSignatureKind kind, EfiSignatureData data) => new()
    {
        Database = database,
        ListIndex = list,
        EntryIndex = entry,
        Kind = kind,
        Owner = data.Owner,
        Value = Convert.ToHexStringLower(kind == EfiSignatureKind.X509 ? SHA256.HashData(data.Data.Span) : data.Data.Span),
    };

    private static byte[] Hash(HashAlgorithmName algorithm, ReadOnlySpan<byte> data) => algorithm.Name switch
    {
        "SHA384" => SHA384.HashData(data),
        "SHA512" => SHA512.HashData(data),
        _ => SHA256.HashData(data),
    };
}
