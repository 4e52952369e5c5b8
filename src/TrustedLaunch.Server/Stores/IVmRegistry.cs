namespace TrustedLaunch.Server.Stores;

/// <summary>
/// A VM the service attests. <see cref="AkCaCertificatesPem"/> holds the AK CA (and its root) that issued the VM's
/// AK certificate, PEM; <c>null</c> means the service-wide CA given by <c>tl server --ca</c>. <see cref="PolicyName"/>
/// names the stored reference policy its boots must meet; <c>null</c> means the verifier's built-in minimum.
/// </summary>
public sealed record RegisteredVm(Guid VmId, string? AkCaCertificatesPem, DateTimeOffset RegisteredAt, string? PolicyName = null);

/// <summary>What <see cref="IVmRegistry.SetPolicyAsync"/> did.</summary>
public enum PolicyAssignment
{
    Assigned,
    UnknownVm,
    UnknownPolicy,
}

/// <summary>The VMs known to the service. Evidence for a VM that is not registered is refused (404).</summary>
public interface IVmRegistry
{
    /// <summary>
    /// Registers or re-registers (replacing the CA and the policy) a VM. Returns false, and writes nothing, when
    /// <see cref="RegisteredVm.PolicyName"/> names no stored policy.
    /// </summary>
    Task<bool> RegisterAsync(RegisteredVm vm, CancellationToken cancellationToken);

    Task<RegisteredVm?> GetAsync(Guid vmId, CancellationToken cancellationToken);

    Task<IReadOnlyList<RegisteredVm>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Removes a VM; returns false when it was not registered. Its results and baseline stay for audit.</summary>
    Task<bool> RemoveAsync(Guid vmId, CancellationToken cancellationToken);

    /// <summary>Makes a registered VM use the stored policy <paramref name="policyName"/>, or the built-in minimum when null.</summary>
    Task<PolicyAssignment> SetPolicyAsync(Guid vmId, string? policyName, CancellationToken cancellationToken);
}
