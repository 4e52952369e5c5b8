using System.Collections.Concurrent;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Attestation;

/// <summary>How large a verifier's caches may grow; each bound holds whatever evidence an attacker sends.</summary>
public sealed record VerificationCacheOptions
{
    /// <summary>Event-log replays remembered by the log's bytes (a VM re-attesting within one boot sends the same log). 0: none.</summary>
    public int ReplayEntries { get; init; } = 256;

    /// <summary>Bytes of log content the replay cache may hold.</summary>
    public long ReplayBytes { get; init; } = 32 << 20;

    /// <summary>Digests of event data of 256 bytes or more (PK/KEK/db/dbx, authorities: kilobytes every log of a fleet repeats).</summary>
    public int DigestEntries { get; init; } = 4096;

    /// <summary>Bytes of data the digest cache may hold.</summary>
    public long DigestBytes { get; init; } = 16 << 20;

    /// <summary>Certificates whose names and fingerprints are remembered by their DER.</summary>
    public int CertificateEntries { get; init; } = 1024;

    /// <summary>AK certificate chains remembered as valid (two P-384 signature checks each, the costliest step).</summary>
    public int AkChains { get; init; } = 4096;

    /// <summary>AK public keys kept imported (~100 µs to import each).</summary>
    public int AkKeys { get; init; } = 256;
}

/// <summary>
/// The state a verifier keeps between verifications, created and sized by its host (<c>tl server</c> from its options;
/// the CLI passes none and recomputes everything). Every entry is remembered by the exact bytes it was computed from
/// (compared in full on a hit), so a cached answer is the answer recomputing would give. Thread-safe.
/// </summary>
public sealed class VerificationCaches
{
    private const int MaxLogBytes = 1 << 20;
    private const int MaxDigestedBytes = 256 << 10;
    private const int MaxCertificateBytes = 64 << 10;

    public VerificationCaches(VerificationCacheOptions? options = null)
    {
        Options = options ?? new VerificationCacheOptions();
        Replays = new ContentCache<EventLogReplay>(Options.ReplayEntries, Options.ReplayBytes, MaxLogBytes);
        Digest = new CachingTpmDigest(OpenSslTpmDigest.Instance, new ContentCache<byte[]>(Options.DigestEntries, Options.DigestBytes, MaxDigestedBytes));
        Names = new CertificateNames(Digest, new ContentCache<KeyEntry>(Options.CertificateEntries, 8L * Options.CertificateEntries * 1024, MaxCertificateBytes),
            new ConcurrentDictionary<string, string>(StringComparer.Ordinal), Options.CertificateEntries);
        AkChains = new AkChainCache(Options.AkChains);
        AkKeys = new VerificationKeyCache(Options.AkKeys);
    }

    /// <summary>The sizes these caches were made with.</summary>
    public VerificationCacheOptions Options { get; }

    internal ContentCache<EventLogReplay> Replays { get; }

    internal ITpmDigest Digest { get; }

    internal CertificateNames Names { get; }

    internal AkChainCache AkChains { get; }

    internal VerificationKeyCache AkKeys { get; }
}
