using System.Collections.Concurrent;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Attestation;

/// <summary>
/// Common names and fingerprints of the certificates found in signature databases and authority events. With caches
/// (a <see cref="VerificationCaches"/>), remembered by their DER and by fingerprint: a fleet's logs carry the same
/// handful of certificates (Microsoft, distribution, platform keys), and decoding X.509 costs more than the rest of
/// an appraisal.
/// </summary>
internal sealed class CertificateNames(ITpmDigest digest, ContentCache<KeyEntry>? described, ConcurrentDictionary<string, string>? names, int capacity)
{
    /// <summary>Names computed every time (the CLI's verifier).</summary>
    public static CertificateNames Uncached(ITpmDigest digest) => new(digest, null, null, 0);

    /// <summary>The entry's display name (certificate CN, or the hash kind) and its SHA-256 fingerprint, lowercase hex.</summary>
    public KeyEntry Describe(SignatureEntry entry)
    {
        if (!entry.IsCertificate)
            return new KeyEntry(entry.Kind.ToString(), Convert.ToHexStringLower(entry.Data.Span));
        ReadOnlySpan<byte> der = entry.Data.Span;
        if (described is not null && described.TryGet(0, der, out KeyEntry? known))
            return known!;
        Span<byte> fingerprintBytes = stackalloc byte[32];
        digest.Hash(TpmAlgId.Sha256, der, fingerprintBytes);
        string fingerprint = Convert.ToHexStringLower(fingerprintBytes);
        if (names is null || !names.TryGetValue(fingerprint, out string? name))
        {
            name = CertificateInfo.TryDecode(der)?.CommonName ?? "undecodable certificate";
            if (names is not null && capacity > 0)
            {
                if (names.Count >= capacity)
                    names.Clear();
                names[fingerprint] = name;
            }
        }

        var result = new KeyEntry(name, fingerprint);
        described?.Add(0, der, result);
        return result;
    }

    /// <summary>An authority event in words: <c>db: Microsoft Corporation UEFI CA 2011</c>.</summary>
    public string Describe(BootAuthority authority) =>
        Describe(authority, authority.Entry is { } entry ? Describe(entry) : null);

    /// <summary>The same, reusing <paramref name="entry"/> when the caller has described the authority's certificate already.</summary>
    public static string Describe(BootAuthority authority, KeyEntry? entry) => entry is not null
        ? $"{authority.VariableName}: {entry.Name}"
        : authority.Describe(); // no certificate: Describe decodes nothing
}
