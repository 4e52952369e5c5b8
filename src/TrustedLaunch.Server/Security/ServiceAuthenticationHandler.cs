using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using TrustedLaunch.Server.Security.Stores;

namespace TrustedLaunch.Server.Security;

/// <summary>
/// The service's own credentials: a host's client certificate (issued by the platform root at enrollment, serial known,
/// not revoked), the in-process local host's bearer secret, and service principals' API keys (looked up by appId at
/// every request, so a deleted principal is refused at once; the secret's hash compared in constant time).
/// </summary>
internal sealed class ServiceAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ServiceSecurityOptions security,
    IPrincipalStore principals,
    IHostCredentialStore hostCredentials,
    TimeProvider time,
    ServiceCertificates certificates)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "TrustedLaunch";

    public const string KindClaim = "tl:kind";
    public const string RoleClaim = "tl:role";
    public const string ObjectIdClaim = "oid";
    public const string NameClaim = "name";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        X509Certificate2? certificate = await Context.Connection.GetClientCertificateAsync(Context.RequestAborted);
        if (certificate is not null)
            return await CertificateAsync(certificate);
        if (BearerToken(Request.Headers.Authorization.ToString()) is not string token)
            return AuthenticateResult.NoResult();
        if (security.LocalHost is LocalHostCredential local
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(local.Token)))
            return Success(CallerKind.Host, "host:" + local.HostName, local.HostName, []);
        if (!ApiKeys.TryParse(token, out Guid appId, out string secret))
            return AuthenticateResult.Fail("The access token is not an API key of this service.");
        PrincipalRecord? principal = await principals.FindByAppIdAsync(appId, Context.RequestAborted);
        if (principal is null || !ApiKeys.Matches(secret, principal.SecretHash))
            return AuthenticateResult.Fail("The API key is unknown, revoked or wrong.");
        return Success(CallerKind.ServicePrincipal, principal.ObjectId.ToString("D"), principal.AppId.ToString("D"),
            [new RoleAssignment(principal.Role, principal.Scope)]);
    }

    /// <summary>The token of an <c>Authorization: Bearer …</c> header; null when there is none.</summary>
    public static string? BearerToken(string header)
    {
        const string Bearer = "Bearer ";
        return header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) && header.Length > Bearer.Length ? header[Bearer.Length..].Trim() : null;
    }

    private async Task<AuthenticateResult> CertificateAsync(X509Certificate2 certificate)
    {
        if (certificates.Issuer is not PlatformIssuer issuer || !issuer.IsHostCertificate(certificate, time.GetUtcNow(), out string? hostName) || hostName is null)
            return AuthenticateResult.Fail("The client certificate was not issued to a host by this service's platform CA.");
        string? registered = await hostCredentials.FindCertificateHostAsync(certificate.SerialNumber, Context.RequestAborted);
        if (registered is null || !registered.Equals(hostName, StringComparison.OrdinalIgnoreCase))
            return AuthenticateResult.Fail("The host certificate is unknown to this service or revoked.");
        return Success(CallerKind.Host, "host:" + hostName, hostName, []);
    }

    private static AuthenticateResult Success(CallerKind kind, string objectId, string name, IEnumerable<RoleAssignment> assignments)
    {
        var claims = new List<Claim> { new(KindClaim, kind.ToString()), new(ObjectIdClaim, objectId), new(NameClaim, name) };
        claims.AddRange(assignments.Select(a => new Claim(RoleClaim, $"{a.Role}:{a.Scope}")));
        var identity = new ClaimsIdentity(claims, SchemeName, NameClaim, RoleClaim);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    /// <summary>Nothing here answers a challenge: the security middleware writes ARM's 401 itself.</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
        return Task.CompletedTask;
    }
}
