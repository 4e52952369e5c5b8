using System.Security.Claims;

namespace TrustedLaunch.Portal.Data;

/// <summary>
/// Who is looking, as the pages need it: the seam for authentication. Without authentication the service's caller is
/// trusted (as the API trusts it); with it, a principal holding only the <c>Reader</c> role sees the pages read-only.
/// </summary>
public sealed record PortalUser(string Name, bool CanWrite)
{
    public const string ReaderRole = "Reader";

    public static PortalUser From(ClaimsPrincipal? principal)
    {
        if (principal?.Identity is not { IsAuthenticated: true } identity)
            return new PortalUser("local operator", CanWrite: true);
        bool readerOnly = principal.IsInRole(ReaderRole) && !principal.IsInRole("Contributor") && !principal.IsInRole("Owner");
        return new PortalUser(identity.Name ?? "signed-in user", !readerOnly);
    }
}
