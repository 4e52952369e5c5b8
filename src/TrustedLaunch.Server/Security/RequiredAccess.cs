namespace TrustedLaunch.Server.Security;

/// <summary>Which rule decides a request.</summary>
public enum PermissionKind
{
    /// <summary>Open to anyone: the relying-party endpoints, health, the API description, host enrollment (its join token is the credential).</summary>
    Public,

    /// <summary>A role granting <see cref="RequiredAccess.Access"/> at <see cref="RequiredAccess.Scope"/>.</summary>
    Scoped,

    /// <summary>Like <see cref="Scoped"/>, at the scope of the VM <see cref="RequiredAccess.VmId"/> (<c>/</c> for a VM outside the control plane).</summary>
    Vm,

    /// <summary>The VM's own host (relaying challenges and evidence), or a role granting <see cref="RequiredAccess.Access"/> at the VM's scope.</summary>
    VmRelay,

    /// <summary>The host named <see cref="RequiredAccess.HostName"/> only (the host contract).</summary>
    HostContract,

    /// <summary>Any authenticated caller; the endpoint shows only what the caller's assignments cover (the subscription list).</summary>
    Filtered,
}

/// <summary>
/// What one request needs, read from its method and path: ARM's action string as Azure RBAC names it
/// (<c>Microsoft.Compute/virtualMachines/write</c>), the access level and where.
/// </summary>
public sealed record RequiredAccess(PermissionKind Kind, AccessLevel Access, string Action, string Scope = ServiceScope.Root,
    Guid? VmId = null, string? HostName = null, string? SubscriptionId = null, string? ResourceGroup = null)
{
    public static RequiredAccess Classify(string method, string path)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);
        bool read = method is "GET" or "HEAD" or "OPTIONS";
        AccessLevel access = read ? AccessLevel.Read : AccessLevel.Write;
        string[] s = path.Trim('/').Split('/');
        string Seg(int i) => i < s.Length ? s[i] : "";
        bool Is(int i, string text) => Seg(i).Equals(text, StringComparison.OrdinalIgnoreCase);

        if (path is "/certs" or "/healthz" || path.StartsWith("/.well-known/", StringComparison.Ordinal) || path.StartsWith("/openapi/", StringComparison.Ordinal)
            || (s.Length == 4 && Is(0, "v1") && Is(1, "hosts") && Is(3, "enroll") && method == "POST"))
            return new(PermissionKind.Public, AccessLevel.Read, "");
        if (Is(0, "subscriptions"))
            return Arm(method, s, access);
        // The portal: sign-in and sign-out are open; every other page needs a principal (what it shows and does is then
        // decided by the API it calls with that principal's credential), and a change needs a role that writes somewhere.
        if (Is(0, "portal"))
        {
            return s.Length == 2 && (Is(1, "signin") || Is(1, "signout"))
                ? new(PermissionKind.Public, AccessLevel.Read, "")
                : new(PermissionKind.Filtered, access, "TrustedLaunch/portal/" + (read ? "read" : "write"));
        }

        if (Is(0, "v1") && Is(1, "vms") && s.Length >= 3 && Guid.TryParse(Seg(2), out Guid vmId))
        {
            string rest = string.Join('/', s.Skip(3));
            if (!read && rest is "challenges" or "attestations" or "attestations:agent-unresponsive")
                return new(PermissionKind.VmRelay, AccessLevel.Write, "Microsoft.Compute/virtualMachines/attest/action", VmId: vmId);
            if (read && rest.StartsWith("attestations", StringComparison.Ordinal))
                return new(PermissionKind.Vm, AccessLevel.AttestationRead, "Microsoft.Attestation/attestationProviders/attestation/read", VmId: vmId);
            return new(PermissionKind.Vm, access, "Microsoft.Compute/virtualMachines/" + (read ? "read" : "write"), VmId: vmId);
        }

        if (Is(0, "v1") && Is(1, "hosts") && s.Length >= 3)
            return new(PermissionKind.HostContract, access, "TrustedLaunch/hosts/" + (read ? "read" : "write"), HostName: Seg(2));
        // Principals: any Owner gets in; the endpoint keeps each Owner to the principals inside its own scopes.
        if (Is(0, "v1") && Is(1, "principals"))
            return new(PermissionKind.Filtered, AccessLevel.ManageAccess, "Microsoft.Authorization/roleAssignments/" + (read ? "read" : "write"));
        if (Is(0, "v1") && Is(1, "audit"))
            return new(PermissionKind.Scoped, AccessLevel.ManageAccess, "Microsoft.Insights/eventtypes/values/read");
        if (Is(0, "v1") && Is(1, "policies"))
            return new(PermissionKind.Scoped, access, "TrustedLaunch/policies/" + (read ? "read" : "write"));
        return new(PermissionKind.Scoped, access, "TrustedLaunch/" + (read ? "read" : "write"));
    }

    // ARM: the scope is the subscription and resource group in the path; the action is the provider's type chain and the verb.
    private static RequiredAccess Arm(string method, string[] s, AccessLevel access)
    {
        if (s.Length == 1)
            return new(PermissionKind.Filtered, AccessLevel.Read, "Microsoft.Resources/subscriptions/read");
        string subscription = s[1];
        string scope = ServiceScope.Subscription(subscription);
        string? group = null;
        int next = 2;
        if (s.Length >= 4 && s[2].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase))
        {
            group = s[3];
            scope = ServiceScope.ResourceGroup(subscription, group);
            next = 4;
        }

        string verb = method switch
        {
            "GET" or "HEAD" => "read",
            "DELETE" => "delete",
            "POST" => "action",
            _ => "write",
        };
        string action;
        if (next < s.Length && s[next].Equals("providers", StringComparison.OrdinalIgnoreCase) && next + 1 < s.Length)
        {
            // providers/{namespace}/{type}/{name}/{type}/{name}…: the types, then the verb; an odd tail on POST is the action's name.
            var types = new List<string> { s[next + 1] };
            for (int i = next + 2; i < s.Length; i += 2)
                types.Add(s[i]);
            action = string.Join('/', types) + "/" + verb;
        }
        else if (group is not null)
        {
            action = "Microsoft.Resources/subscriptions/resourceGroups/" + verb;
        }
        else
        {
            action = next < s.Length && s[next].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase)
                ? "Microsoft.Resources/subscriptions/resourceGroups/" + verb
                : "Microsoft.Resources/subscriptions/" + verb;
        }

        // GET /subscriptions/{id}: anyone with a role inside the subscription may read the subscription itself.
        if (s.Length == 2 && access == AccessLevel.Read)
            return new(PermissionKind.Filtered, AccessLevel.Read, action, scope, SubscriptionId: subscription);
        return new(PermissionKind.Scoped, access, action, scope, SubscriptionId: subscription, ResourceGroup: group);
    }
}
