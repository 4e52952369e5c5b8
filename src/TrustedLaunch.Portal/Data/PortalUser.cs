using System.Security.Claims;

namespace TrustedLaunch.Portal.Data;

/// <summary>
/// Who is looking, as the pages need it. Without authentication the service's caller is trusted (as the API trusts it);
/// with it, the host hands the pages the signed-in principal: its roles (<c>Reader</c> alone sees the pages read-only)
/// and the scopes of its role assignments, which keep the lists built in process to what the API would show it.
/// Every change still goes through the API with the caller's own credential, where RBAC decides.
/// </summary>
public sealed record PortalUser(string Name, bool CanWrite)
{
    public const string ReaderRole = "Reader";

    /// <summary>Claim type of an assignment's scope (<c>/</c>, <c>/subscriptions/{id}</c>, <c>…/resourceGroups/{name}</c>).</summary>
    public const string ScopeClaim = "tl:scope";

    /// <summary>The scopes the user's roles are assigned at; null when it sees everything (authentication off).</summary>
    public IReadOnlyList<string>? Scopes { get; init; }

    public bool SignedIn { get; init; }

    public static PortalUser From(ClaimsPrincipal? principal)
    {
        if (principal?.Identity is not { IsAuthenticated: true } identity)
            return new PortalUser("local operator", CanWrite: true);
        bool writes = principal.IsInRole("Contributor") || principal.IsInRole("Owner");
        return new PortalUser(identity.Name ?? "signed-in user", writes)
        {
            Scopes = principal.FindAll(ScopeClaim).Select(c => c.Value).ToList(),
            SignedIn = true,
        };
    }

    /// <summary>True when the user may learn that the resource group exists: a role at it, above it, or inside it.</summary>
    public bool SeesGroup(string subscriptionId, string resourceGroup)
    {
        if (Scopes is null)
            return true;
        string group = $"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}";
        return Scopes.Any(scope => scope == "/" || Contains(scope, group) || Contains(group, scope));
    }

    /// <summary>True when a role of the user reaches the whole subscription (its subscription-wide lists answer it).</summary>
    public bool SeesSubscription(string subscriptionId) =>
        Scopes is null || Scopes.Any(scope => scope == "/" || Contains(scope, $"/subscriptions/{subscriptionId}"));

    private static bool Contains(string parent, string scope) =>
        scope.Equals(parent, StringComparison.OrdinalIgnoreCase) || scope.StartsWith(parent.TrimEnd('/') + "/", StringComparison.OrdinalIgnoreCase);
}
