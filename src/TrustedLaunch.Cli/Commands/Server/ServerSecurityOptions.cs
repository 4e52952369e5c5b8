using System.Buffers.Text;
using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Security;

namespace TrustedLaunch.Cli.Commands.Server;

/// <summary>
/// The security options of <c>tl server</c> (docs/security.md): <c>--auth</c>, TLS (<c>--tls-cert/--tls-key</c> or
/// <c>--tls-platform-ca</c>), an external JWT issuer (<c>--jwt-*</c>) and <c>--rate-limit</c>; and the local host's
/// credential when authentication is on.
/// </summary>
internal sealed class ServerSecurityOptions
{
    private readonly Option<bool> _auth = new("--auth") { Description = "Require authentication: API keys ('tl server principal create'), host client certificates, and JWTs of --jwt-issuer." };
    private readonly Option<string?> _tlsCert = new("--tls-cert") { Description = "PEM certificate (chain) for TLS; with --tls-key." };
    private readonly Option<string?> _tlsKey = new("--tls-key") { Description = "PEM private key of --tls-cert." };
    private readonly Option<bool> _tlsPlatformCa = new("--tls-platform-ca") { Description = "Serve TLS with a certificate the platform CA (--ca) issues at start." };
    private readonly Option<string?> _jwtIssuer = new("--jwt-issuer") { Description = "Accept JWTs from this OpenID Connect issuer (iss); with --jwt-audience." };
    private readonly Option<string?> _jwtAudience = new("--jwt-audience") { Description = "The aud the issuer's JWTs must carry." };
    private readonly Option<string?> _jwtAuthority = new("--jwt-authority") { Description = "Where the issuer's OpenID configuration and keys are fetched (default: --jwt-issuer)." };
    private readonly Option<string?> _jwtSigningKey = new("--jwt-signing-key") { Description = "PEM public key the issuer signs with, instead of fetching its keys." };
    private readonly Option<string> _jwtRoleClaim = new("--jwt-role-claim") { Description = "Claim holding roles: Role or Role:/subscriptions/…", DefaultValueFactory = _ => "roles" };
    private readonly Option<int?> _rateLimit = new("--rate-limit") { Description = "Requests per minute per caller (429 + Retry-After beyond); default 600 with --auth, else off; 0 off." };

    private readonly Option<int?> _auditRetentionDays = new("--audit-retention-days")
    {
        Description = "Delete audit events older than this many days (the maintenance leader purges); default: keep them.",
    };

    public static ServerSecurityOptions Create() => new();

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { _auth, _tlsCert, _tlsKey, _tlsPlatformCa, _jwtIssuer, _jwtAudience, _jwtAuthority, _jwtSigningKey, _jwtRoleClaim, _rateLimit, _auditRetentionDays })
            command.Options.Add(option);
    }

    /// <summary>The service's security options; <paramref name="localHostName"/> gets a bearer secret of this process when authentication is on.</summary>
    public ServiceSecurityOptions Read(ParseResult parse, string? localHostName)
    {
        bool auth = parse.GetValue(_auth);
        string? issuer = parse.GetValue(_jwtIssuer), audience = parse.GetValue(_jwtAudience);
        if (issuer is null != audience is null)
            throw new CliException(ExitCode.BadInput, "--jwt-issuer and --jwt-audience go together.");
        if (issuer is not null && !auth)
            throw new CliException(ExitCode.BadInput, "--jwt-issuer needs --auth.");
        if (parse.GetValue(_tlsPlatformCa) && parse.GetValue(_tlsCert) is not null)
            throw new CliException(ExitCode.BadInput, "Give --tls-cert/--tls-key or --tls-platform-ca, not both.");
        int perMinute = parse.GetValue(_rateLimit) ?? (auth ? 600 : 0);
        if (perMinute is < 0 or > 1_000_000)
            throw new CliException(ExitCode.BadInput, "--rate-limit must be 0..1000000 requests per minute.");
        int? retentionDays = parse.GetValue(_auditRetentionDays);
        if (retentionDays is < 1 or > 36_500)
            throw new CliException(ExitCode.BadInput, "--audit-retention-days must be 1..36500 days.");
        return new ServiceSecurityOptions
        {
            RequireAuthentication = auth,
            AuditRetention = retentionDays is int days ? TimeSpan.FromDays(days) : null,
            TlsCertificatePath = Full(parse.GetValue(_tlsCert)),
            TlsKeyPath = Full(parse.GetValue(_tlsKey)),
            TlsFromPlatformCa = parse.GetValue(_tlsPlatformCa),
            RequestsPerMinute = perMinute,
            Jwt = issuer is null ? null : new ExternalJwtOptions
            {
                Issuer = issuer,
                Audience = audience!,
                Authority = parse.GetValue(_jwtSigningKey) is null ? parse.GetValue(_jwtAuthority) ?? issuer : null,
                SigningKeyPath = Full(parse.GetValue(_jwtSigningKey)),
                RoleClaim = parse.GetValue(_jwtRoleClaim)!,
            },
            LocalHost = auth && localHostName is not null ? new LocalHostCredential(localHostName, NewSecret()) : null,
        };
    }

    /// <summary>How the in-process local host proves itself: the process's secret; over TLS it trusts the service's certificate.</summary>
    public static HostCredential? LocalHostCredential(AttestationServiceOptions options)
    {
        ServiceSecurityOptions security = options.Security;
        if (security.LocalHost is null && !security.HasTls)
            return null;
        X509Certificate2? root = security.TlsFromPlatformCa && options.CaDirectory is string ca
            ? X509Certificate2.CreateFromPem(File.ReadAllText(PlatformCaLayout.CertificatePath(ca, PlatformCaLayout.RootName)))
            : null;
        X509Certificate2? pinned = security.TlsCertificatePath is string certificate ? X509Certificate2.CreateFromPem(File.ReadAllText(certificate)) : null;
        return new HostCredential { BearerToken = security.LocalHost?.Token, TrustedRoot = root, PinnedServerCertificate = pinned };
    }

    private static string? Full(string? path) => path is null ? null : Path.GetFullPath(path);

    private static string NewSecret()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(32);
        try
        {
            return "tlh1." + Base64Url.EncodeToString(secret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }
}
