using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using static TrustedLaunch.ControlPlane.Network.NetworkTypes;

namespace TrustedLaunch.ControlPlane.Network;

/// <summary>
/// What happens to a VM's NICs once the VM is gone, as Azure does it: a NIC its <c>networkProfile</c> marks
/// <c>deleteOption: Delete</c> is deleted with it (the default for the NICs a flexible scale set makes for its
/// instances); a <c>Detach</c> NIC (the default for a VM's own references) stays, free for another VM.
/// </summary>
public sealed class VmNicRelease(NetworkService network)
{
    /// <summary>
    /// Deletes the VM's Delete NICs; called after the VM's row is removed, so nothing of it still uses them. A NIC
    /// another VM names meanwhile, or one already gone, stays as it is (the delete's refusal is the answer).
    /// </summary>
    public async Task<IReadOnlyList<string>> ReleaseAsync(VirtualMachineRecord vm, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vm);
        var deleted = new List<string>();
        foreach (NetworkInterfaceReference reference in vm.Model.Properties.NetworkProfile?.NetworkInterfaces ?? [])
        {
            if (!string.Equals(reference.Properties?.DeleteOption, VmNetworkCheck.DeleteOptionDelete, StringComparison.OrdinalIgnoreCase)
                || ParseId(reference.Id) is not var (subscription, group, type, name)
                || !type.Equals(NetworkInterfaces, StringComparison.OrdinalIgnoreCase))
                continue;
            if ((await network.DeleteAsync(new NetworkKey(subscription, group, NetworkInterfaces, name), cancellationToken)).Value)
                deleted.Add(reference.Id!);
        }

        return deleted;
    }
}
