using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Attestation;

/// <summary>
/// AK certificates found valid: decoding the certificate and building its chain (two P-384 signature checks) costs
/// more than the rest of a verification, and a re-attesting VM presents the same certificate and AK every time. An
/// entry records that this certificate chains to this anchor set with the right EKU and certifies exactly this AK
/// public area; it holds from the certificate's notBefore to the earliest notAfter in its chain. The VM id is checked
/// on every verification, against the subject's common names kept with the entry.
/// </summary>
internal sealed class AkChainCache(int capacity)
{
    private readonly ConcurrentDictionary<Key, Entry> _valid = new();

    public readonly record struct Key(string Certificate, string AkPublic, string Anchors);

    public static Key KeyOf(byte[] certificateDer, byte[] akPublicArea, X509Certificate2Collection anchors) =>
        new(Sha256Hex(certificateDer), Sha256Hex(akPublicArea), AnchorSetId(anchors));

    public bool TryGet(Key key, DateTimeOffset now, out string[]? commonNames)
    {
        if (_valid.TryGetValue(key, out Entry? entry) && now >= entry.NotBefore && now <= entry.NotAfter)
        {
            commonNames = entry.CommonNames;
            return true;
        }

        commonNames = null;
        return false;
    }

    public void Add(Key key, DateTimeOffset notBefore, DateTimeOffset notAfter, string[] commonNames)
    {
        if (_valid.Count >= capacity)
            _valid.Clear();
        _valid[key] = new Entry(notBefore, notAfter, commonNames);
    }

    // On every verification, so through the direct OpenSSL digest rather than the BCL's per-call EVP set-up.
    private static string Sha256Hex(ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[32];
        OpenSslTpmDigest.Instance.Hash(TpmAlgId.Sha256, data, digest);
        return Convert.ToHexString(digest);
    }

    private static string AnchorSetId(X509Certificate2Collection authorities)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string thumbprint in authorities.Select(a => a.GetCertHashString(HashAlgorithmName.SHA256)).Order(StringComparer.Ordinal))
            hash.AppendData(System.Text.Encoding.ASCII.GetBytes(thumbprint));
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private sealed record Entry(DateTimeOffset NotBefore, DateTimeOffset NotAfter, string[] CommonNames);
}
