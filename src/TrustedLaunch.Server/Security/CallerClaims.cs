using System.Security.Claims;

namespace TrustedLaunch.Server.Security;

/// <summary>Turns an authenticated <see cref="ClaimsPrincipal"/> (the service's own scheme or an external JWT) into a <see cref="ServiceCaller"/>.</summary>
internal static class CallerClaims
{
    public static ServiceCaller ToCaller(ClaimsPrincipal user, string? jwtRoleClaim)
    {
        if (user.FindFirst(ServiceAuthenticationHandler.KindClaim)?.Value is string kindText && Enum.TryParse(kindText, out CallerKind kind))
        {
            return new ServiceCaller(kind, user.FindFirst(ServiceAuthenticationHandler.ObjectIdClaim)!.Value,
                user.FindFirst(ServiceAuthenticationHandler.NameClaim)!.Value,
                user.FindAll(ServiceAuthenticationHandler.RoleClaim).Select(c => ParseAssignment(c.Value)).OfType<RoleAssignment>().ToArray());
        }

        // An external JWT: Azure AD's claim names (oid, appid/azp), else the subject; roles from the configured claim.
        string objectId = First(user, "oid", "http://schemas.microsoft.com/identity/claims/objectidentifier", "sub", ClaimTypes.NameIdentifier) ?? "unknown";
        string name = First(user, "appid", "azp", "preferred_username", "name") ?? objectId;
        RoleAssignment[] roles = jwtRoleClaim is null ? [] : user.FindAll(jwtRoleClaim).Select(c => ParseAssignment(c.Value)).OfType<RoleAssignment>().ToArray();
        return new ServiceCaller(CallerKind.External, objectId, name, roles);
    }

    /// <summary><c>Role</c> (at <c>/</c>) or <c>Role:/scope</c>; null when the value names no role or an invalid scope.</summary>
    public static RoleAssignment? ParseAssignment(string value)
    {
        int colon = value.IndexOf(':', StringComparison.Ordinal);
        string roleText = colon < 0 ? value : value[..colon];
        if (!RoleAssignment.TryParseRole(roleText, out ServiceRole role))
            return null;
        string? scope = colon < 0 ? ServiceScope.Root : ServiceScope.Parse(value[(colon + 1)..], out _);
        return scope is null ? null : new RoleAssignment(role, scope);
    }

    private static string? First(ClaimsPrincipal user, params string[] types) =>
        types.Select(t => user.FindFirst(t)?.Value).FirstOrDefault(v => !string.IsNullOrEmpty(v));
}
