namespace TrustedLaunch.Server.Stores;

/// <summary>
/// A VM the service attests. <see cref="AkCaCertificatesPem"/> holds the AK CA (and its root) that issued the VM's
/// AK certificate, PEM; <c>null</c> means the service-wide CA given by <c>tl server --ca</c>.
/// </summary>
public sealed record RegisteredVm(Guid VmId, string? AkCaCertificatesPem, DateTimeOffset RegisteredAt);

/// <summary>The VMs known to the service. Evidence for a VM that is not registered is refused (404).</summary>
public interface IVmRegistry
{
    /// <summary>Registers or re-registers (replacing the CA) a VM.</summary>
    Task RegisterAsync(RegisteredVm vm, CancellationToken cancellationToken);

    Task<RegisteredVm?> GetAsync(Guid vmId, CancellationToken cancellationToken);

    Task<IReadOnlyList<RegisteredVm>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Removes a VM; returns false when it was not registered. Its results and baseline stay for audit.</summary>
    Task<bool> RemoveAsync(Guid vmId, CancellationToken cancellationToken);
}
