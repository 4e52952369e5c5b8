using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.ControlPlane.Network;

/// <summary>
/// The rules on a VM's <c>networkProfile.networkInterfaces</c>, with Azure's codes: each NIC exists in the VM's region,
/// is not attached to another VM, and with more than one exactly one is primary.
/// </summary>
public sealed class VmNetworkCheck(NetworkService network, NetworkInUse inUse)
{
    public const string DeleteOptionDelete = "Delete";
    public const string DeleteOptionDetach = "Detach";

    public async Task<IReadOnlyList<ArmErrorDetail>> CheckAsync(VirtualMachineKey key, string location, NetworkProfile? profile, CancellationToken cancellationToken)
    {
        var errors = new List<ArmErrorDetail>();
        IReadOnlyList<NetworkInterfaceReference> nics = profile?.NetworkInterfaces ?? [];
        string vmId = ResourceIds.VirtualMachine(key.SubscriptionId, key.ResourceGroup, key.Name);
        for (int i = 0; i < nics.Count; i++)
        {
            string target = $"properties.networkProfile.networkInterfaces[{i}]";
            string? nicId = nics[i].Id;
            if (nics[i].Properties?.DeleteOption is string option && !IsDeleteOption(option))
                errors.Add(NetworkValidation.Error("InvalidParameter", $"The value '{option}' of deleteOption is not valid: use {DeleteOptionDelete} or {DeleteOptionDetach}.", $"{target}.properties.deleteOption"));
            if (nicId is null || NetworkTypes.ParseId(nicId) is not var (_, _, type, _) || !type.Equals(NetworkTypes.NetworkInterfaces, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add(NetworkValidation.Error("InvalidParameter", $"'{nicId}' is not the id of a Microsoft.Network/networkInterfaces resource.", $"{target}.id"));
                continue;
            }

            NetworkResourceRecord? nic = await network.FindAsync(nicId, cancellationToken);
            if (nic is null || !nic.Location.Equals(location, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add(NetworkValidation.MissingReference(nicId, vmId, $"{target}.id"));
                continue;
            }

            if (await inUse.InterfaceUserAsync(nicId, key, key.SubscriptionId, cancellationToken) is VirtualMachineRecord other)
                errors.Add(NetworkValidation.Error("NicInUse",
                    $"Network Interface {nicId} is used by existing VM {ResourceIds.VirtualMachine(other.SubscriptionId, other.ResourceGroup, other.Name)}.", $"{target}.id"));
        }

        if (nics.Count > 1 && nics.Count(n => n.Properties?.Primary == true) != 1)
            errors.Add(NetworkValidation.Error("VirtualMachineMustHaveOneNetworkInterfaceAsPrimary",
                $"Virtual machine {key.Name} must have one network interface set as the primary.", "properties.networkProfile.networkInterfaces"));
        return errors;
    }

    /// <summary>The profile as stored: ids as sent, one NIC is primary, deleteOption Detach unless Delete was asked for (Azure's defaults).</summary>
    public static NetworkProfile? WithDefaults(NetworkProfile? profile)
    {
        if (profile?.NetworkInterfaces is not { Count: > 0 } nics)
            return null;
        return new NetworkProfile
        {
            NetworkInterfaces = nics.Select(n => n with
            {
                Properties = new NetworkInterfaceReferenceProperties
                {
                    Primary = nics.Count == 1 || n.Properties?.Primary == true,
                    DeleteOption = string.Equals(n.Properties?.DeleteOption, DeleteOptionDelete, StringComparison.OrdinalIgnoreCase) ? DeleteOptionDelete : DeleteOptionDetach,
                },
            }).ToArray(),
        };
    }

    private static bool IsDeleteOption(string option) =>
        option.Equals(DeleteOptionDelete, StringComparison.OrdinalIgnoreCase) || option.Equals(DeleteOptionDetach, StringComparison.OrdinalIgnoreCase);
}
