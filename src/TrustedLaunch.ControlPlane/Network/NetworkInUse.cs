using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using static TrustedLaunch.ControlPlane.Network.NetworkTypes;

namespace TrustedLaunch.ControlPlane.Network;

/// <summary>
/// Referential integrity of the network model: who still uses a resource (NICs use subnets, public IPs and NSGs;
/// subnets use NSGs; VMs use NICs), and Azure's refusal when one in use is deleted. References may cross resource
/// groups of the subscription, so the scan covers the subscription.
/// </summary>
public sealed class NetworkInUse(INetworkResourceStore store, IVirtualMachineStore machines, ControlPlaneOptions options)
{
    /// <summary>Why deleting <paramref name="record"/> is refused (Azure's code and message), or null when nothing uses it.</summary>
    public async Task<ArmFailure?> RefuseDeleteAsync(NetworkResourceRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        string id = Id(record.SubscriptionId, record.ResourceGroup, record.Type, record.Name);
        switch (record.Type)
        {
            case NetworkSecurityGroups:
                IReadOnlyList<string> users = await SecurityGroupUsersAsync(record.SubscriptionId, id, cancellationToken);
                return users.Count == 0 ? null : ArmErrors.Fail(ArmErrors.BadRequest, "InUseNetworkSecurityGroupCannotBeDeleted",
                    $"Network security group {id} cannot be deleted because it is in use by the following resources: {string.Join(", ", users)}. In order to delete the Network security group, remove the association with the resource(s).");
            case PublicIPAddresses:
                IReadOnlyList<string> holders = await ConfigurationsReferencingAsync(record.SubscriptionId, "publicIPAddress", id, cancellationToken);
                string? holder = holders.Count > 0 ? holders[0] : null;
                return holder is null ? null : ArmErrors.Fail(ArmErrors.BadRequest, "PublicIPAddressCannotBeDeleted",
                    $"Public IP address {id} can not be deleted since it is still allocated to resource {holder}. In order to delete the public IP, disassociate/detach the Public IP address from the resource.  To learn how to do this, see aka.ms/deletepublicip.");
            case VirtualNetworks:
                foreach (JsonNode? subnet in Items(NetworkViews.DesiredOf(record)["properties"], "subnets"))
                {
                    if (await SubnetRefusalAsync(record.SubscriptionId, $"{id}/subnets/{Text(subnet, "name")}", cancellationToken) is ArmFailure refused)
                        return refused;
                }

                return null;
            case NetworkInterfaces:
                VirtualMachineRecord? vm = await InterfaceUserAsync(id, exceptVm: null, record.SubscriptionId, cancellationToken);
                return vm is null ? null : ArmErrors.Fail(ArmErrors.BadRequest, "NicInUse",
                    $"Network Interface {id} is used by existing resource {ResourceIds.VirtualMachine(vm.SubscriptionId, vm.ResourceGroup, vm.Name)}. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.");
            default:
                return null;
        }
    }

    /// <summary>Azure's refusal to delete (or drop from its network) a subnet an IP configuration still uses, or null.</summary>
    public async Task<ArmFailure?> SubnetRefusalAsync(string subscriptionId, string subnetId, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> users = await ConfigurationsReferencingAsync(subscriptionId, "subnet", subnetId, cancellationToken);
        string? user = users.Count > 0 ? users[0] : null;
        return user is null ? null : ArmErrors.Fail(ArmErrors.BadRequest, "InUseSubnetCannotBeDeleted",
            $"Subnet {subnetId[(subnetId.LastIndexOf('/') + 1)..]} is in use by {user} and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.");
    }

    /// <summary>The VM (other than <paramref name="exceptVm"/>) whose network profile names the NIC, or null.</summary>
    public async Task<VirtualMachineRecord?> InterfaceUserAsync(string nicId, VirtualMachineKey? exceptVm, string subscriptionId, CancellationToken cancellationToken)
    {
        string? token = null;
        do
        {
            Page<VirtualMachineRecord> page = await machines.ListAsync(subscriptionId, null, token, options.PageSize, cancellationToken);
            foreach (VirtualMachineRecord vm in page.Items)
            {
                if (exceptVm is VirtualMachineKey except && vm.Key.ResourceGroupKey == except.ResourceGroupKey && vm.Key.NameKey == except.NameKey)
                    continue;
                if (vm.Model.Properties.NetworkProfile?.NetworkInterfaces?.Any(n => string.Equals(n.Id, nicId, StringComparison.OrdinalIgnoreCase)) == true)
                    return vm;
            }

            token = page.ContinuationToken;
        }
        while (token is not null);
        return null;
    }

    private async Task<IReadOnlyList<string>> SecurityGroupUsersAsync(string subscriptionId, string nsgId, CancellationToken cancellationToken)
    {
        var users = new List<string>();
        foreach (NetworkResourceRecord nic in await store.ListInSubscriptionAsync(subscriptionId, NetworkInterfaces, cancellationToken))
        {
            if (References(Member(NetworkViews.DesiredOf(nic)["properties"], "networkSecurityGroup"), nsgId))
                users.Add(Id(nic.SubscriptionId, nic.ResourceGroup, nic.Type, nic.Name));
        }

        foreach (NetworkResourceRecord vnet in await store.ListInSubscriptionAsync(subscriptionId, VirtualNetworks, cancellationToken))
        {
            string vnetId = Id(vnet.SubscriptionId, vnet.ResourceGroup, vnet.Type, vnet.Name);
            users.AddRange(Items(NetworkViews.DesiredOf(vnet)["properties"], "subnets")
                .Where(s => References(Member(Member(s, "properties"), "networkSecurityGroup"), nsgId))
                .Select(s => $"{vnetId}/subnets/{Text(s, "name")}"));
        }

        return users;
    }

    // The IP configurations (by id) whose properties.<member>.id is the given resource.
    private async Task<IReadOnlyList<string>> ConfigurationsReferencingAsync(string subscriptionId, string member, string id, CancellationToken cancellationToken)
    {
        var users = new List<string>();
        foreach (NetworkResourceRecord nic in await store.ListInSubscriptionAsync(subscriptionId, NetworkInterfaces, cancellationToken))
        {
            string nicId = Id(nic.SubscriptionId, nic.ResourceGroup, nic.Type, nic.Name);
            users.AddRange(Items(NetworkViews.DesiredOf(nic)["properties"], "ipConfigurations")
                .Where(c => References(Member(Member(c, "properties"), member), id))
                .Select(c => $"{nicId}/ipConfigurations/{Text(c, "name") ?? "ipconfig1"}"));
        }

        return users;
    }

    private static bool References(JsonNode? subResource, string id) =>
        Text(subResource, "id") is string referenced && string.Equals(referenced.TrimEnd('/'), id, StringComparison.OrdinalIgnoreCase);
}
