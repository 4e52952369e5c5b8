using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;

namespace TrustedLaunch.Portal.Data;

/// <summary>
/// The portal's sign-in when the service authenticates its callers (<c>tl server --auth</c>): the credential a person
/// typed on the sign-in page (an API key or a bearer JWT) lives in an encrypted (data protection), HttpOnly,
/// SameSite=Strict cookie scoped to <c>/portal</c>. Each portal request carries it to the service's own security as
/// <c>Authorization: Bearer …</c>, so a revoked key stops working at the next click, RBAC decides as for the API, and
/// the audit log names the real caller.
/// </summary>
public static class PortalSignIn
{
    public const string Scheme = "TrustedLaunch.Portal";
    public const string CookieName = "tl-portal";
    public const string CredentialClaim = "tl:portal-credential";
    public const string SignInPath = PortalRegistration.BasePath + "/signin";
    public const string SignOutPath = PortalRegistration.BasePath + "/signout";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    /// <summary>True for the two portal pages anyone may reach: sign-in and sign-out.</summary>
    public static bool IsOpen(PathString path) =>
        path.Equals(SignInPath, StringComparison.OrdinalIgnoreCase) || path.Equals(SignOutPath, StringComparison.OrdinalIgnoreCase);

    /// <summary>A return address after sign-in: a portal path of this site only (never another origin).</summary>
    public static string SafeReturn(string? returnUrl) =>
        returnUrl is { Length: > 1 } url && url.StartsWith(PortalRegistration.BasePath + "/", StringComparison.Ordinal) && !url.Contains("//", StringComparison.Ordinal)
            && !url.Contains('\\', StringComparison.Ordinal) && !IsOpen(new PathString(url.Split('?')[0]))
            ? url
            : PortalRegistration.BasePath + "/vms";
}

/// <summary>
/// Runs before the service's security: under <c>/portal</c>, turns the sign-in cookie into the bearer credential it
/// holds; a page asked for without one is redirected to the sign-in page. Without <c>--auth</c> it does nothing.
/// </summary>
public sealed class PortalCredentialMiddleware(RequestDelegate next, PortalOptions options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        PathString path = context.Request.Path;
        if (!options.RequireSignIn || !path.StartsWithSegments(PortalRegistration.BasePath, StringComparison.OrdinalIgnoreCase)
            || context.Request.Headers.Authorization.Count > 0)
        {
            await next(context);
            return;
        }

        AuthenticateResult signedIn = await context.AuthenticateAsync(PortalSignIn.Scheme);
        if (signedIn.Succeeded && signedIn.Principal?.FindFirst(PortalSignIn.CredentialClaim)?.Value is { Length: > 0 } credential)
        {
            context.Request.Headers.Authorization = "Bearer " + credential;
        }
        else if (!PortalSignIn.IsOpen(path) && HttpMethods.IsGet(context.Request.Method))
        {
            context.Response.Redirect(PortalSignIn.SignInPath + "?returnUrl=" + Uri.EscapeDataString(path + context.Request.QueryString));
            return;
        }

        await next(context);
    }
}
