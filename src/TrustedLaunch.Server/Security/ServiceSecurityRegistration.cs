using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.Server.Endpoints.Arm;
using TrustedLaunch.Server.Security.Stores;

namespace TrustedLaunch.Server.Security;

/// <summary>
/// The one place <c>tl server</c>'s security is composed: <see cref="AddServiceSecurity"/> checks the listen address
/// against the options (a non-loopback address without TLS and authentication is refused with the reason), sets up
/// Kestrel (TLS with a PEM or platform-CA certificate, HTTP/2, client certificates, limits), authentication, the rate
/// limiter and the stores; <see cref="UseServiceSecurity"/> puts the security middleware and the rate limiter in the
/// pipeline and maps the access endpoints.
/// </summary>
public static class ServiceSecurityRegistration
{
    private const string SelectorScheme = "TrustedLaunchSelector";
    private const string JwtScheme = "ExternalJwt";

    /// <exception cref="ArgumentException">The listen URL and the security options do not go together (the message says why).</exception>
    /// <exception cref="PlatformIssuerException">TLS from the platform CA was asked for and the CA cannot issue.</exception>
    public static void AddServiceSecurity(this WebApplicationBuilder builder, AttestationServiceOptions options, Server.Stores.Sql.StoreDatabase database)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        ServiceSecurityOptions security = options.Security;
        Uri listen = CheckListen(options.Listen, security);
        PlatformIssuer? issuer = PlatformIssuer.Open(options.CaDirectory);
        X509Certificate2? serverCertificate = security.HasTls ? ServerCertificate(security, issuer, listen) : null;

        if (serverCertificate is not null)
            builder.WebHost.UseKestrelHttpsConfiguration(); // the slim builder leaves https:// URLs out unless asked
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.RequestHeadersTimeout = security.RequestHeadersTimeout;
            kestrel.Limits.KeepAliveTimeout = security.KeepAliveTimeout;
            kestrel.Limits.Http2.MaxStreamsPerConnection = 100;
            if (serverCertificate is null)
                return;
            kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Protocols = HttpProtocols.Http1AndHttp2);
            kestrel.ConfigureHttpsDefaults(https =>
            {
                https.ServerCertificate = serverCertificate;
                // Hosts present the platform CA's client certificates; the authentication handler judges them, so a
                // caller with another CA's certificate gets ARM's 401 rather than a failed handshake.
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.ClientCertificateValidation = (_, _, _) => true;
                https.CheckCertificateRevocation = false;
            });
        });

        builder.Services.AddSingleton(security);
        builder.Services.AddSingleton(new ServiceCertificates(issuer));
        builder.Services.AddSingleton<IPrincipalStore>(new Stores.SqlPrincipalStore(database));
        builder.Services.AddSingleton<IHostCredentialStore>(new Stores.SqlHostCredentialStore(database));
        builder.Services.AddSingleton<IAuditLog>(new Stores.SqlAuditLog(database));
        if (security.AuditRetention is not null)
            builder.Services.AddHostedService<AuditPurger>();
        AddAuthentication(builder.Services, security);
        if (security.RequestsPerMinute > 0)
            AddRateLimiter(builder.Services, security.RequestsPerMinute);
    }

    public static void UseServiceSecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        ServiceSecurityOptions security = app.Services.GetRequiredService<ServiceSecurityOptions>();
        app.UseRequestSecurity();
        AccessEndpoints.Map(app);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServiceSecurityRegistration).FullName!);
            if (!security.RequireAuthentication)
                SecurityLog.AuthenticationOff(logger);
            else
                SecurityLog.AuthenticationOn(logger, security.Jwt is null ? "" : $" and JWTs of {security.Jwt.Issuer}", security.HasTls ? " over TLS" : " (no TLS: loopback)",
                    security.RequestsPerMinute > 0 ? string.Create(CultureInfo.InvariantCulture, $"{security.RequestsPerMinute}/min per caller") : "off");
        });
    }

    /// <summary>
    /// What every request crosses, whatever else its pipeline holds: authentication and the access decision, the audit of
    /// writes and refusals (<see cref="ServiceSecurityMiddleware"/>), and the per-caller rate limit when one is set.
    /// </summary>
    public static IApplicationBuilder UseRequestSecurity(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<ServiceSecurityMiddleware>();
        // One limiter (RateLimiterOptions.GlobalLimiter, a singleton) however many branches use it: a caller's bucket is shared.
        if (app.ApplicationServices.GetRequiredService<ServiceSecurityOptions>().RequestsPerMinute > 0)
            app.UseRateLimiter();
        return app;
    }

    /// <summary>The listen URL, checked against the rules of docs/security.md.</summary>
    public static Uri CheckListen(string text, ServiceSecurityOptions security)
    {
        ArgumentNullException.ThrowIfNull(security);
        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? listen) || listen.Scheme is not ("http" or "https"))
            throw new ArgumentException($"The listen URL '{text}' must be an absolute http:// or https:// URL.", nameof(text));
        if (listen.Scheme == Uri.UriSchemeHttps && !security.HasTls)
            throw new ArgumentException($"The listen URL '{text}' is https:// but no certificate was given: --tls-cert and --tls-key, or --tls-platform-ca.", nameof(text));
        if (listen.Scheme == Uri.UriSchemeHttp && security.HasTls)
            throw new ArgumentException($"A TLS certificate was given but the listen URL '{text}' is http://; use https://.", nameof(text));
        if (security.TlsCertificatePath is null != security.TlsKeyPath is null)
            throw new ArgumentException("--tls-cert and --tls-key go together.", nameof(security));
        if (!IsLoopback(listen) && !(security.HasTls && security.RequireAuthentication))
            throw new ArgumentException(
                $"Refusing to listen on {text}: a non-loopback address needs TLS (--tls-cert/--tls-key or --tls-platform-ca, https://) and authentication (--auth)" +
                $"{(security.HasTls ? "" : "; TLS is missing")}{(security.RequireAuthentication ? "" : "; authentication is off")}: " +
                "without them anyone who reaches the port could create, change and delete VMs and read their attestation results.", nameof(text));
        return listen;
    }

    public static bool IsLoopback(Uri listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        return listen.IsLoopback || (IPAddress.TryParse(listen.Host.Trim('[', ']'), out IPAddress? address) && IPAddress.IsLoopback(address));
    }

    private static X509Certificate2 ServerCertificate(ServiceSecurityOptions security, PlatformIssuer? issuer, Uri listen)
    {
        if (security.TlsCertificatePath is string certificate)
        {
            try
            {
                using X509Certificate2 pem = X509Certificate2.CreateFromPemFile(certificate, security.TlsKeyPath);
                return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
            {
                throw new ArgumentException($"The TLS certificate {certificate} with key {security.TlsKeyPath} cannot be used: {e.Message}", nameof(security), e);
            }
        }

        if (issuer is null)
            throw new ArgumentException("--tls-platform-ca needs the platform CA folder (--ca).", nameof(security));
        string host = listen.Host.Trim('[', ']');
        string[] names = host is "0.0.0.0" or "::" or "*" or "+"
            ? ["localhost", "127.0.0.1", "::1", Environment.MachineName]
            : [host, "localhost", "127.0.0.1", "::1", Environment.MachineName];
        return issuer.IssueServerCertificate(names, DateTimeOffset.UtcNow, TimeSpan.FromDays(90));
    }

    private static void AddAuthentication(IServiceCollection services, ServiceSecurityOptions security)
    {
        AuthenticationBuilder authentication = services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, "API key, host certificate or external JWT", policy => policy.ForwardDefaultSelector = context =>
                security.Jwt is not null && ServiceAuthenticationHandler.BearerToken(context.Request.Headers.Authorization.ToString()) is string token
                    && !ApiKeys.LooksLikeKey(token) && token.Count(c => c == '.') == 2 && context.Connection.ClientCertificate is null
                    ? JwtScheme
                    : ServiceAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ServiceAuthenticationHandler>(ServiceAuthenticationHandler.SchemeName, null);
        if (security.Jwt is not ExternalJwtOptions jwt)
            return;
        SecurityKey? signingKey = jwt.SigningKeyPath is string keyPath ? ReadSigningKey(keyPath) : null;
        authentication.AddJwtBearer(JwtScheme, bearer =>
        {
            bearer.MapInboundClaims = false;
            bearer.Authority = jwt.Authority;
            bearer.RequireHttpsMetadata = jwt.Authority?.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ?? true;
            bearer.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = jwt.Issuer,
                ValidAudience = jwt.Audience,
                RoleClaimType = jwt.RoleClaim,
                IssuerSigningKey = signingKey,
                ValidateIssuerSigningKey = true,
                RequireSignedTokens = true,
                RequireExpirationTime = true,
                ClockSkew = TimeSpan.FromMinutes(2),
            };
        });
    }

    private static SecurityKey ReadSigningKey(string path)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"The JWT signing key {path} cannot be read: {e.Message}", nameof(path), e);
        }

        try
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
        catch (CryptographicException)
        {
        }
        catch (ArgumentException)
        {
        }

        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new ArgumentException($"The JWT signing key {path} is not a PEM EC or RSA public key: {e.Message}", nameof(path), e);
        }
    }

    private static void AddRateLimiter(IServiceCollection services, int perMinute)
    {
        services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                string key = ServiceCaller.Of(context)?.ObjectId ?? context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
                return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = perMinute,
                    TokensPerPeriod = perMinute,
                    ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                int seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 60;
                rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status429TooManyRequests, "TooManyRequests",
                    string.Create(CultureInfo.InvariantCulture, $"The request is being throttled: more than {perMinute} requests a minute from this caller. Retry after {seconds} seconds."))).ExecuteAsync(rejected.HttpContext);
                _ = cancellationToken;
            };
        });
    }
}
