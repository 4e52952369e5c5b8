namespace TrustedLaunch.Server.Stores;

/// <summary>
/// A named reference policy as stored: the verifier's <c>ReferencePolicy</c> JSON (as <c>ReferencePolicy.ToJson</c>
/// writes it, so what is shown is what is enforced) and when it was last written.
/// </summary>
public sealed record StoredPolicy(string Name, string PolicyJson, DateTimeOffset UpdatedAt);

/// <summary>Whether <see cref="IPolicyStore.SaveAsync"/> added a policy or replaced one of the same name.</summary>
public enum PolicyWrite
{
    Created,
    Replaced,
}

/// <summary>What <see cref="IPolicyStore.RemoveAsync"/> did.</summary>
public enum PolicyRemoval
{
    Removed,

    /// <summary>No policy has that name.</summary>
    NotFound,

    /// <summary>A registered VM names the policy; it stays until no VM does.</summary>
    InUse,
}

/// <summary>
/// Explicit named reference policies a VM registration may name (<see cref="RegisteredVm.PolicyName"/>). A policy
/// cannot be removed while a VM uses it, so a VM never names a policy that is gone.
/// </summary>
public interface IPolicyStore
{
    /// <summary>Stores <paramref name="policy"/>, replacing the policy of the same name if there is one.</summary>
    Task<PolicyWrite> SaveAsync(StoredPolicy policy, CancellationToken cancellationToken);

    Task<StoredPolicy?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every policy, by name.</summary>
    Task<IReadOnlyList<StoredPolicy>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Removes a policy unless a registered VM names it (decided atomically with concurrent assignments).</summary>
    Task<PolicyRemoval> RemoveAsync(string name, CancellationToken cancellationToken);
}
