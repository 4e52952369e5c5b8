namespace TrustedLaunch.Server.Security;

/// <summary>
/// The built-in roles, with Azure RBAC's meaning: <see cref="Reader"/> reads, <see cref="Contributor"/> also writes,
/// <see cref="Owner"/> also manages who may do what (principals); <see cref="AttestationReader"/> reads attestation
/// results and tokens only.
/// </summary>
public enum ServiceRole
{
    Reader,
    Contributor,
    Owner,
    AttestationReader,
}

/// <summary>What a request needs, from least to most.</summary>
public enum AccessLevel
{
    /// <summary>Attestation results and tokens of a VM.</summary>
    AttestationRead,

    /// <summary>Any GET.</summary>
    Read,

    /// <summary>Any change.</summary>
    Write,

    /// <summary>Principals and the audit log.</summary>
    ManageAccess,
}

/// <summary>A role granted at a scope: <c>/</c>, <c>/subscriptions/{id}</c> or <c>/subscriptions/{id}/resourceGroups/{name}</c>.</summary>
public sealed record RoleAssignment(ServiceRole Role, string Scope)
{
    public bool Grants(AccessLevel access) => access switch
    {
        AccessLevel.AttestationRead => true,
        AccessLevel.Read => Role is not ServiceRole.AttestationReader,
        AccessLevel.Write => Role is ServiceRole.Contributor or ServiceRole.Owner,
        _ => Role is ServiceRole.Owner,
    };

    /// <summary>True when this assignment's scope is <paramref name="scope"/> or one of its parents.</summary>
    public bool Covers(string scope) => ServiceScope.Contains(Scope, scope);

    /// <summary>True when the caller may learn that <paramref name="scope"/> exists: it covers it or lies inside it.</summary>
    public bool Sees(string scope) => ServiceScope.Contains(Scope, scope) || ServiceScope.Contains(scope, Scope);

    public static bool TryParseRole(string text, out ServiceRole role) =>
        Enum.TryParse(text, ignoreCase: true, out role) && Enum.IsDefined(role) && !int.TryParse(text, out _);
}

/// <summary>Scopes as Azure writes them; compared without regard to case, as ARM compares names.</summary>
public static class ServiceScope
{
    public const string Root = "/";

    /// <summary>True when <paramref name="parent"/> is <paramref name="scope"/> or contains it.</summary>
    public static bool Contains(string parent, string scope)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(scope);
        if (parent == Root)
            return true;
        return scope.Equals(parent, StringComparison.OrdinalIgnoreCase)
            || (scope.Length > parent.Length && scope.StartsWith(parent, StringComparison.OrdinalIgnoreCase) && scope[parent.Length] == '/');
    }

    public static string Subscription(string subscriptionId) => "/subscriptions/" + subscriptionId;

    public static string ResourceGroup(string subscriptionId, string resourceGroup) => $"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}";

    /// <summary>
    /// Normalises a scope a principal may be given: <c>/</c>, <c>/subscriptions/{guid}</c> or
    /// <c>/subscriptions/{guid}/resourceGroups/{name}</c>; null with <paramref name="error"/> otherwise.
    /// </summary>
    public static string? Parse(string text, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        error = null;
        string trimmed = text.TrimEnd('/');
        if (trimmed.Length == 0)
            return Root;
        string[] parts = trimmed.Split('/');
        if (parts[0].Length == 0 && parts.Length is 3 or 5 && parts[1].Equals("subscriptions", StringComparison.OrdinalIgnoreCase)
            && Guid.TryParseExact(parts[2], "D", out Guid subscription))
        {
            if (parts.Length == 3)
                return Subscription(subscription.ToString("D"));
            if (parts[3].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase) && TrustedLaunch.ControlPlane.Arm.ArmNames.CheckResourceGroup(parts[4]) is null)
                return ResourceGroup(subscription.ToString("D"), parts[4]);
        }

        error = $"The scope '{text}' is not valid: '/', '/subscriptions/{{subscriptionId}}' or '/subscriptions/{{subscriptionId}}/resourceGroups/{{name}}'.";
        return null;
    }
}
