namespace TrustedLaunch.Server.Security;

/// <summary>
/// Who may call <c>tl server</c> and how (docs/security.md). The default — no authentication, plain HTTP — is allowed
/// on loopback only; a non-loopback listen address needs TLS and authentication.
/// </summary>
public sealed record ServiceSecurityOptions
{
    /// <summary>Callers must present a bearer token (API key or JWT) or a host client certificate.</summary>
    public bool RequireAuthentication { get; init; }

    /// <summary>PEM certificate (chain) and key for TLS; both or neither.</summary>
    public string? TlsCertificatePath { get; init; }

    public string? TlsKeyPath { get; init; }

    /// <summary>Serve TLS with a certificate the platform CA's root issues at start (for the listen host, localhost and loopback).</summary>
    public bool TlsFromPlatformCa { get; init; }

    /// <summary>An external OpenID Connect issuer whose JWTs are accepted; null: none.</summary>
    public ExternalJwtOptions? Jwt { get; init; }

    /// <summary>Requests per minute per caller (token bucket, bursts of the same size); 0 turns rate limiting off.</summary>
    public int RequestsPerMinute { get; init; }

    /// <summary>How long a client has to send the request headers (Kestrel's <c>RequestHeadersTimeout</c>).</summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Kestrel's <c>KeepAliveTimeout</c>: an idle connection is closed after this long.</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(130);

    /// <summary>
    /// A secret the in-process local host of <c>tl server</c> presents as its bearer token (it lives only in this
    /// process), and the host name it stands for. Null: no local host.
    /// </summary>
    public LocalHostCredential? LocalHost { get; init; }

    /// <summary>How long a host client certificate issued at enrollment is valid.</summary>
    public TimeSpan HostCertificateLifetime { get; init; } = TimeSpan.FromDays(365);

    /// <summary>How long audit events are kept (the maintenance leader deletes older ones); null: kept forever.</summary>
    public TimeSpan? AuditRetention { get; init; }

    public bool HasTls => TlsFromPlatformCa || TlsCertificatePath is not null;
}

/// <summary>The bearer secret of the in-process local host (never stored, never logged).</summary>
public sealed record LocalHostCredential(string HostName, string Token);

/// <summary>
/// JWTs from an external OpenID Connect issuer, validated by ASP.NET Core's JwtBearer handler: signed by the issuer's
/// keys (from <see cref="Authority"/>'s discovery document, or the PEM public key at <see cref="SigningKeyPath"/>),
/// with this <see cref="Issuer"/> and <see cref="Audience"/>. The role claim's values are <c>Role</c> (at <c>/</c>) or
/// <c>Role:/subscriptions/…[/resourceGroups/…]</c>.
/// </summary>
public sealed record ExternalJwtOptions
{
    public string? Authority { get; init; }

    public required string Issuer { get; init; }

    public required string Audience { get; init; }

    public string RoleClaim { get; init; } = "roles";

    public string? SigningKeyPath { get; init; }
}
