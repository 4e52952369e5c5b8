using Microsoft.AspNetCore.Http;

namespace TrustedLaunch.Server.Security;

/// <summary>Who a caller is: a service principal (API key), an external identity (JWT) or a host (client certificate).</summary>
public enum CallerKind
{
    ServicePrincipal,
    External,
    Host,
}

/// <summary>
/// The authenticated caller of one request, with its role assignments (none for a host: a host may do only what the
/// host contract lets the host named <see cref="Name"/> do).
/// </summary>
public sealed record ServiceCaller(CallerKind Kind, string ObjectId, string Name, IReadOnlyList<RoleAssignment> Assignments)
{
    private static readonly object ItemKey = new();

    /// <summary>How the audit log names the caller.</summary>
    public string AuditName => Kind switch
    {
        CallerKind.Host => "host:" + Name,
        _ => $"{ObjectId} ({Name})",
    };

    /// <summary>True when an assignment grants <paramref name="access"/> at <paramref name="scope"/>.</summary>
    public bool Allows(AccessLevel access, string scope) => Assignments.Any(a => a.Covers(scope) && a.Grants(access));

    /// <summary>True when the caller may learn that <paramref name="scope"/> exists.</summary>
    public bool Sees(string scope) => Assignments.Any(a => a.Sees(scope));

    /// <summary>The caller the security middleware authorised for this request; null when authentication is off.</summary>
    public static ServiceCaller? Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Items.TryGetValue(ItemKey, out object? caller) ? caller as ServiceCaller : null;
    }

    /// <summary>True when the caller may learn that <paramref name="scope"/> exists (always, when authentication is off).</summary>
    public static bool MaySee(HttpContext context, string scope) => Of(context) is not ServiceCaller caller || caller.Sees(scope);

    internal static void Set(HttpContext context, ServiceCaller caller) => context.Items[ItemKey] = caller;
}
