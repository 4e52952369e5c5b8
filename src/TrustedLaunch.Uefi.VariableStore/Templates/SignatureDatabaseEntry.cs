using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>One entry to enroll in PK/KEK/db/dbx: an X.509 certificate (DER) or a hash, with its owner GUID.</summary>
public sealed record SignatureDatabaseEntry(EfiSignatureKind Kind, Guid Owner, ReadOnlyMemory<byte> Data)
{
    /// <summary>
    /// A certificate entry. edk2 (CheckSignatureListFormat, RsaGetPublicKeyFromX509) accepts only RSA keys in PK/KEK/db, so
    /// anything else is refused here rather than at the firmware.
    /// </summary>
    public static SignatureDatabaseEntry FromCertificate(ReadOnlySpan<byte> der, Guid owner)
    {
        X509Certificate2 cert;
        try
        {
            cert = X509CertificateLoader.LoadCertificate(der);
        }
        catch (CryptographicException e)
        {
            throw new VariableStoreException($"Not a DER X.509 certificate: {e.Message}", e);
        }

        using (cert)
        using (var rsa = cert.GetRSAPublicKey())
        {
            if (rsa is null)
                throw new VariableStoreException($"{cert.Subject}: edk2 accepts only RSA certificates in Secure Boot databases, this key is {cert.PublicKey.Oid.FriendlyName}.");
            return new SignatureDatabaseEntry(EfiSignatureKind.X509, owner, cert.RawData);
        }
    }

    /// <summary>
    /// Parses a hash written as <c>sha256:HEX</c> (also <c>sha1:</c>, <c>sha384:</c>, <c>sha512:</c>) into an
    /// EFI_CERT_SHA* entry; the hex length must match the algorithm.
    /// </summary>
    public static SignatureDatabaseEntry FromHash(string text, Guid owner)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
            throw new VariableStoreException($"'{text}' is not ALG:HEX (e.g. sha256:e3b0c442…).");
        string alg = text[..colon].ToLowerInvariant();
        var kind = alg switch
        {
            "sha256" => EfiSignatureKind.Sha256,
            "sha1" => EfiSignatureKind.Sha1,
            "sha384" => EfiSignatureKind.Sha384,
            "sha512" => EfiSignatureKind.Sha512,
            _ => throw new VariableStoreException($"Unsupported hash algorithm '{alg}' in '{text}'; use sha256, sha384, sha512 or sha1."),
        };
        byte[] hash;
        try
        {
            hash = Convert.FromHexString(text[(colon + 1)..]);
        }
        catch (FormatException e)
        {
            throw new VariableStoreException($"'{text}' does not end in hexadecimal digits.", e);
        }

        int expected = EfiSignatureType.FixedDataSize(kind)!.Value;
        if (hash.Length != expected)
            throw new VariableStoreException(string.Create(CultureInfo.InvariantCulture, $"'{text}': a {alg} hash is {expected} bytes, this is {hash.Length}."));
        return new SignatureDatabaseEntry(kind, owner, hash);
    }

    /// <summary>
    /// Groups entries into EFI_SIGNATURE_LISTs as enrolment tools do: one list per certificate (X.509 entries differ in
    /// size), and one list per hash algorithm holding all hashes of that algorithm, in first-seen order.
    /// </summary>
    public static byte[] EncodeLists(IEnumerable<SignatureDatabaseEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var lists = new List<EfiSignatureList>();
        var byHash = new Dictionary<EfiSignatureKind, List<EfiSignatureData>>();
        foreach (var e in entries)
        {
            var data = new EfiSignatureData(e.Owner, e.Data);
            if (e.Kind == EfiSignatureKind.X509)
            {
                lists.Add(new EfiSignatureList(EfiSignatureType.X509, ReadOnlyMemory<byte>.Empty, [data]));
                continue;
            }

            if (!byHash.TryGetValue(e.Kind, out var group))
            {
                group = [];
                byHash[e.Kind] = group;
                lists.Add(new EfiSignatureList(EfiSignatureType.GuidOf(e.Kind), ReadOnlyMemory<byte>.Empty, group));
            }

            if (!group.Exists(d => d.Data.Span.SequenceEqual(e.Data.Span)))
                group.Add(data);
        }

        return EfiSignatureList.Encode(lists);
    }
}
