using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.Server.Endpoints;
using TrustedLaunch.Server.Endpoints.Arm;
using TrustedLaunch.Server.Security.Stores;

namespace TrustedLaunch.Server.Security;

/// <summary>
/// Principals and the audit log for Owners (<c>/v1/principals</c>, <c>/v1/audit</c>) and host enrollment
/// (<c>POST /v1/hosts/{name}/enroll</c>: a single-use join token and a CSR in, a client certificate of the platform CA out;
/// <c>POST /v1/hosts/{name}/certificate</c>: the same for a renewal, the host proving itself with its current certificate).
/// </summary>
internal static class AccessEndpoints
{
    private const int MaxBodyBytes = 64 * 1024;

    public static void Map(IEndpointRouteBuilder app)
    {
        RouteGroupBuilder principals = app.MapGroup("/v1/principals").WithTags("Access").AddEndpointFilter<ArmLoopbackOnlyFilter>();
        principals.MapGet("", ListAsync).WithName("Principals_List");
        principals.MapPost("", CreateAsync).WithName("Principals_Create");
        principals.MapDelete("/{id}", DeleteAsync).WithName("Principals_Delete");
        app.MapGet("/v1/audit", AuditAsync).WithTags("Access").WithName("Audit_List").AddEndpointFilter<ArmLoopbackOnlyFilter>();
        app.MapPost("/v1/hosts/{hostName}/enroll", EnrollAsync).WithTags("Hosts").WithName("Hosts_Enroll");
        app.MapPost("/v1/hosts/{hostName}/certificate", RenewAsync).WithTags("Hosts").WithName("Hosts_RenewCertificate");
    }

    internal sealed record PrincipalView(Guid ObjectId, Guid AppId, string DisplayName, string Role, string Scope, DateTimeOffset CreatedAt,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Secret = null)
    {
        public static PrincipalView From(PrincipalRecord p, string? secret = null) =>
            new(p.ObjectId, p.AppId, p.DisplayName, p.Role.ToString(), p.Scope, p.CreatedAt, secret);
    }

    internal sealed record PrincipalRequest(string? DisplayName, string? Role, string? Scope);

    internal sealed record EnrollRequest(string? JoinToken, string? Csr);

    internal sealed record RenewRequest(string? Csr);

    internal sealed record EnrollResponse(string HostName, string Certificate, string CaCertificate, DateTimeOffset ExpiresAt);

    // An Owner manages the principals inside its own Owner scopes (without authentication: a loopback caller, every one).
    private static bool Manages(HttpContext context, string scope) =>
        ServiceCaller.Of(context) is not ServiceCaller caller || caller.Allows(AccessLevel.ManageAccess, scope);

    private static async Task<IResult> ListAsync(HttpContext context, IPrincipalStore store, CancellationToken cancellationToken)
    {
        IReadOnlyList<PrincipalRecord> all = await store.ListAsync(cancellationToken);
        return Results.Json(new { value = all.Where(p => Manages(context, p.Scope)).Select(p => PrincipalView.From(p)).ToArray() }, ServiceJson.Options);
    }

    private static async Task<IResult> CreateAsync(HttpContext context, IPrincipalStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        PrincipalRequest? request = await ReadAsync<PrincipalRequest>(context, cancellationToken);
        if (request is null)
            return BadRequest("The body must be JSON: {\"displayName\", \"role\", \"scope\"}.");
        if (!ServicePrincipals.IsDisplayName(request.DisplayName))
            return BadRequest("displayName must be 1 to 120 printable characters.", "displayName");
        if (request.Role is null || !RoleAssignment.TryParseRole(request.Role, out ServiceRole role))
            return BadRequest("role must be Reader, Contributor, Owner or AttestationReader.", "role");
        if (ServiceScope.Parse(request.Scope ?? "", out string? error) is not string scope)
            return BadRequest(error!, "scope");
        if (!Manages(context, scope))
        {
            ServiceCaller caller = ServiceCaller.Of(context)!;
            return ArmHttp.Error(ServiceSecurityMiddleware.Forbidden(caller, "Microsoft.Authorization/roleAssignments/write", scope));
        }

        (PrincipalRecord principal, string key) = await ServicePrincipals.CreateAsync(store, request.DisplayName!, role, scope, time.GetUtcNow(), cancellationToken);
        return Results.Json(PrincipalView.From(principal, key), ServiceJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext context, IPrincipalStore store, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out Guid guid))
            return BadRequest($"'{id}' is not a principal's object id or appId (a GUID).", "id");
        PrincipalRecord? principal = (await store.ListAsync(cancellationToken)).FirstOrDefault(p => p.ObjectId == guid || p.AppId == guid);
        if (principal is null || !Manages(context, principal.Scope))
            return ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status404NotFound, "PrincipalNotFound", $"No principal '{id}' in the scopes you manage."));
        await store.DeleteAsync(guid, cancellationToken);
        return Results.NoContent();
    }

    private static async Task<IResult> AuditAsync(int? limit, string? since, HttpContext context, IAuditLog audit, CancellationToken cancellationToken)
    {
        if (!Manages(context, ServiceScope.Root))
            return ArmHttp.Error(ServiceSecurityMiddleware.Forbidden(ServiceCaller.Of(context)!, "Microsoft.Insights/eventtypes/values/read", ServiceScope.Root));
        DateTimeOffset? from = null;
        if (since is not null)
        {
            if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset parsed))
                return BadRequest("since must be an ISO 8601 time.", "since");
            from = parsed;
        }

        IReadOnlyList<AuditEvent> events = await audit.ListAsync(Math.Clamp(limit ?? 100, 1, 1000), from, cancellationToken);
        return Results.Json(new { value = events }, ServiceJson.Options);
    }

    private static async Task<IResult> EnrollAsync(string hostName, HttpContext context, IHostCredentialStore credentials, ServiceCertificates certificates,
        ServiceSecurityOptions security, TimeProvider time, ILogger<ServiceCertificates> logger, CancellationToken cancellationToken)
    {
        if (!ArmNames.IsHostName(hostName))
            return BadRequest($"The host name '{hostName}' is not valid: 1 to 63 letters, digits, '-' or '.'.", "hostName");
        EnrollRequest? request = await ReadAsync<EnrollRequest>(context, cancellationToken);
        if (request?.JoinToken is null || request.Csr is null)
            return BadRequest("The body must be JSON: {\"joinToken\", \"csr\" (PEM PKCS#10)}.");
        if (certificates.Issuer is not PlatformIssuer issuer)
            return ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status503ServiceUnavailable, "EnrollmentUnavailable",
                "This service has no platform CA (tl server --ca) to issue host certificates with."));
        DateTimeOffset now = time.GetUtcNow();
        if (!await credentials.SpendJoinTokenAsync(ServicePrincipals.JoinTokenHash(request.JoinToken), hostName, now, cancellationToken))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status401Unauthorized, "InvalidAuthenticationToken",
                "The join token is unknown, already used, expired or for another host."));
        }

        try
        {
            using System.Security.Cryptography.X509Certificates.X509Certificate2 certificate =
                issuer.IssueHostCertificate(hostName, request.Csr, now, security.HostCertificateLifetime);
            await credentials.AddCertificateAsync(certificate.SerialNumber, hostName, now, certificate.NotAfter, cancellationToken);
            SecurityLog.HostEnrolled(logger, hostName, certificate.SerialNumber);
            return Results.Json(new EnrollResponse(hostName, certificate.ExportCertificatePem(), issuer.Root.ExportCertificatePem(), certificate.NotAfter),
                ServiceJson.Options);
        }
        catch (PlatformIssuerException e)
        {
            return BadRequest(e.Message, "csr");
        }
    }

    // A host renews its client certificate before it expires, proving itself with the one it has (mTLS; the middleware
    // let only that host through): a new key's CSR in, a certificate of the same lifetime out. The old one stays valid
    // until it expires or is revoked (tl server host revoke), so a host never stands without one.
    private static async Task<IResult> RenewAsync(string hostName, HttpContext context, IHostCredentialStore credentials, ServiceCertificates certificates,
        ServiceSecurityOptions security, TimeProvider time, ILogger<ServiceCertificates> logger, CancellationToken cancellationToken)
    {
        if (ServiceCaller.Of(context) is not { Kind: CallerKind.Host } caller || context.Connection.ClientCertificate is not { } presented
            || !string.Equals(caller.Name, hostName, StringComparison.OrdinalIgnoreCase))
        {
            return ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status403Forbidden, "AuthorizationFailed",
                $"Only host '{hostName}' itself, presenting its client certificate, may renew that certificate."));
        }

        RenewRequest? request = await ReadAsync<RenewRequest>(context, cancellationToken);
        if (request?.Csr is null)
            return BadRequest("The body must be JSON: {\"csr\" (PEM PKCS#10)}.");
        if (certificates.Issuer is not PlatformIssuer issuer)
            return ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status503ServiceUnavailable, "EnrollmentUnavailable",
                "This service has no platform CA (tl server --ca) to issue host certificates with."));
        DateTimeOffset now = time.GetUtcNow();
        try
        {
            using System.Security.Cryptography.X509Certificates.X509Certificate2 certificate =
                issuer.IssueHostCertificate(hostName, request.Csr, now, security.HostCertificateLifetime);
            await credentials.AddCertificateAsync(certificate.SerialNumber, hostName, now, certificate.NotAfter, cancellationToken);
            SecurityLog.HostCertificateRenewed(logger, hostName, presented.SerialNumber, certificate.SerialNumber);
            return Results.Json(new EnrollResponse(hostName, certificate.ExportCertificatePem(), issuer.Root.ExportCertificatePem(), certificate.NotAfter),
                ServiceJson.Options);
        }
        catch (PlatformIssuerException e)
        {
            return BadRequest(e.Message, "csr");
        }
    }

    private static async Task<T?> ReadAsync<T>(HttpContext context, CancellationToken cancellationToken) where T : class
    {
        byte[]? body = await RequestBody.ReadAsync(context, MaxBodyBytes, cancellationToken);
        if (body is null || body.Length == 0)
            return null;
        try
        {
            return JsonSerializer.Deserialize<T>(body, ServiceJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IResult BadRequest(string message, string? target = null) =>
        ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status400BadRequest, "InvalidRequestContent", message, target));
}

/// <summary>The platform CA the service issues certificates with; <see cref="Issuer"/> null when it has none.</summary>
internal sealed record ServiceCertificates(PlatformIssuer? Issuer);
