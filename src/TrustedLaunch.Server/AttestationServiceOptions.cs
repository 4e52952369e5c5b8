using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.ControlPlane;

namespace TrustedLaunch.Server;

/// <summary>Configuration of one <c>tl server</c> instance; immutable once the host is built.</summary>
public sealed record AttestationServiceOptions
{
    /// <summary>Where <c>tl server</c> listens unless told otherwise: loopback only.</summary>
    public const string DefaultListen = "http://127.0.0.1:5380";

    /// <summary>The database file inside <see cref="DataDirectory"/>.</summary>
    public const string DatabaseFileName = "tl.db";

    /// <summary>Holds the SQLite database (unless <see cref="Database"/> names another) and the token-signing key (mode 0600).</summary>
    public required string DataDirectory { get; init; }

    /// <summary>The Kestrel URL, e.g. <c>http://127.0.0.1:5380</c>; port 0 picks a free port.</summary>
    public string Listen { get; init; } = DefaultListen;

    /// <summary>
    /// The platform CA folder (<c>tl ca init</c>): its vTPM AK CA and root are trusted for every VM registered
    /// without a CA of its own. Null: every VM must be registered with its CA.
    /// </summary>
    public string? CaDirectory { get; init; }

    /// <summary>The token signature algorithm: <c>ES256</c> (default) or <c>RS256</c>.</summary>
    public string TokenAlgorithm { get; init; } = "ES256";

    /// <summary>The token issuer (<c>iss</c>, OpenID <c>issuer</c>); null: the first address the server listens on.</summary>
    public string? Issuer { get; init; }

    /// <summary>How long a challenge nonce stays valid (Keylime's <c>challenge_lifetime</c>).</summary>
    public TimeSpan NonceLifetime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long after a newer quote of a VM was accepted an older quote of the same boot may still pass as a concurrent attestation.</summary>
    public TimeSpan ConcurrentAttestationWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Sizes of the verifier's caches (replays, digests, certificate names, AK chains and keys).</summary>
    public VerificationCacheOptions VerificationCaches { get; init; } = new();

    /// <summary>Bytes of nonce per challenge.</summary>
    public int NonceBytes { get; init; } = 32;

    /// <summary>Largest request body accepted; the evidence limit, which equals the guest channel's frame limit.</summary>
    public long MaxRequestBodyBytes { get; init; } = EvidenceJson.MaxDocumentBytes;

    /// <summary>Default and largest <c>limit</c> of <c>GET …/attestations</c>.</summary>
    public int DefaultListLimit { get; init; } = 20;

    public int MaxListLimit { get; init; } = 500;

    /// <summary>Where <c>tl image build</c> caches its images: the newest default builds are offered in the image catalog at start; null: none.</summary>
    public string? ImageCache { get; init; }

    /// <summary>The ARM control plane's settings (docs/control-plane.md).</summary>
    public ControlPlaneOptions ControlPlane { get; init; } = new();

    /// <summary>This replica's name and lease period among the replicas of one database (docs/scale-out.md).</summary>
    public Replicas.ReplicaOptions Replica { get; init; } = new();

    /// <summary>Posture: evaluation intervals and webhook delivery (docs/posture.md).</summary>
    public Posture.PostureOptions Posture { get; init; } = new();

    /// <summary>
    /// The database every store runs on: a PostgreSQL connection string (<c>Host=…;Database=…</c>; any number of
    /// replicas may share it, docs/scale-out.md) or a SQLite file path. Null: the SQLite file <see cref="DatabasePath"/>.
    /// </summary>
    public string? Database { get; init; }
    /// <summary>Logs, metrics and traces (docs/observability.md).</summary>
    public Telemetry.TelemetryOptions Telemetry { get; init; } = new();
    /// <summary>Authentication, TLS, host enrollment and rate limits (docs/security.md); off on loopback by default.</summary>
    public Security.ServiceSecurityOptions Security { get; init; } = new();

    public string DatabasePath => Path.Combine(DataDirectory, DatabaseFileName);
}
