using System.Collections.Concurrent;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Attestation;

/// <summary>
/// Common names and fingerprints of the certificates found in signature databases and authority events, remembered by
/// their DER: a fleet's logs carry the same handful of certificates (Microsoft, distribution, platform keys), and
/// decoding X.509 costs more than the rest of an appraisal.
/// </summary>
internal static class CertificateNames
{
    private const int Capacity = 1024;

    // By DER (skips the hash too); by fingerprint (skips the X.509 decoding even where content caches are off).
    private static readonly ContentCache<KeyEntry> s_described = new(Capacity, maxTotalBytes: 8 << 20, maxContentBytes: 64 << 10);
    private static readonly ConcurrentDictionary<string, string> s_names = new(StringComparer.Ordinal);

    /// <summary>The entry's display name (certificate CN, or the hash kind) and its SHA-256 fingerprint, lowercase hex.</summary>
    public static KeyEntry Describe(SignatureEntry entry)
    {
        if (!entry.IsCertificate)
            return new KeyEntry(entry.Kind.ToString(), Convert.ToHexStringLower(entry.Data.Span));
        ReadOnlySpan<byte> der = entry.Data.Span;
        if (s_described.TryGet(0, der, out KeyEntry? known))
            return known!;
        Span<byte> digest = stackalloc byte[32];
        TpmHashAlgorithm.Hash(TpmAlgId.Sha256, der, digest);
        string fingerprint = Convert.ToHexStringLower(digest);
        if (!s_names.TryGetValue(fingerprint, out string? name))
        {
            name = CertificateInfo.TryDecode(der)?.CommonName ?? "undecodable certificate";
            if (s_names.Count >= Capacity)
                s_names.Clear();
            s_names[fingerprint] = name;
        }

        var described = new KeyEntry(name, fingerprint);
        s_described.Add(0, der, described);
        return described;
    }

    /// <summary>An authority event in words: <c>db: Microsoft Corporation UEFI CA 2011</c>.</summary>
    public static string Describe(BootAuthority authority) =>
        Describe(authority, authority.Entry is { } entry ? Describe(entry) : null);

    /// <summary>The same, reusing <paramref name="entry"/> when the caller has described the authority's certificate already.</summary>
    public static string Describe(BootAuthority authority, KeyEntry? entry) => entry is not null
        ? $"{authority.VariableName}: {entry.Name}"
        : authority.Describe(); // no certificate: Describe decodes nothing
}
