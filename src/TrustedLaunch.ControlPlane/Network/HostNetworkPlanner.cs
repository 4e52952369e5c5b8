using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using static TrustedLaunch.ControlPlane.Network.NetworkTypes;

namespace TrustedLaunch.ControlPlane.Network;

/// <summary>
/// What a host builds for the NICs of its VMs (<see cref="VmNetworkInterfaceSpec"/>): each NIC's MAC, and a host port
/// for every guest TCP port its security groups let in. A VM's host ports are derived from its id and NIC and kept
/// unique among the VMs of the host, the older VM keeping its port on a clash, so they stay the same from start to start.
/// The NSGs are read when the host's assignments are computed: a rule change reaches a running VM at its next start.
/// </summary>
public sealed class HostNetworkPlanner(INetworkResourceStore store, IVirtualMachineStore machines, ControlPlaneOptions options)
{
    /// <summary>The NIC specs of every VM of a host, by VM id.</summary>
    public async Task<IReadOnlyDictionary<Guid, IReadOnlyList<VmNetworkInterfaceSpec>>> PlanAsync(IReadOnlyList<VirtualMachineRecord> hostVms,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hostVms);
        var taken = new HashSet<int>();
        var plans = new Dictionary<Guid, IReadOnlyList<VmNetworkInterfaceSpec>>();
        foreach (VirtualMachineRecord vm in hostVms.OrderBy(v => v.TimeCreated).ThenBy(v => v.VmId))
        {
            var nics = new List<VmNetworkInterfaceSpec>();
            foreach (NetworkInterfaceReference reference in (vm.Model.Properties.NetworkProfile?.NetworkInterfaces ?? []).OrderByDescending(n => n.Properties?.Primary == true))
            {
                if (reference.Id is string id && await NicAsync(vm, id, reference.Properties?.Primary ?? true, taken, cancellationToken) is VmNetworkInterfaceSpec nic)
                    nics.Add(nic);
            }

            plans[vm.VmId] = nics;
        }

        return plans;
    }

    /// <summary>
    /// A part of the host's assignments token that changes when its VMs' host forwards do (an NSG or NIC change changes
    /// no VM's version), so a host polling with the old token gets the new forwards at once.
    /// </summary>
    public static string Token(IReadOnlyDictionary<Guid, IReadOnlyList<VmNetworkInterfaceSpec>> plans)
    {
        ArgumentNullException.ThrowIfNull(plans);
        var text = new StringBuilder();
        foreach ((Guid vm, IReadOnlyList<VmNetworkInterfaceSpec> nics) in plans.OrderBy(p => p.Key))
        {
            foreach (VmNetworkInterfaceSpec nic in nics)
            {
                text.Append(vm.ToString("N")).Append('|').Append(nic.Id).Append('|');
                foreach (HostForward f in nic.HostForwards)
                    text.Append(f.HostAddress).Append(':').Append(f.HostPort).Append('-').Append(f.GuestPort).Append(';');
            }
        }

        return text.Length == 0 ? "" : "." + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..12];
    }

    /// <summary>The NIC specs of one VM, as its host's assignments carry them (empty before it is placed).</summary>
    public async Task<IReadOnlyList<VmNetworkInterfaceSpec>> PlanVmAsync(VirtualMachineRecord vm, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vm);
        if (vm.HostName is null)
            return [];
        IReadOnlyDictionary<Guid, IReadOnlyList<VmNetworkInterfaceSpec>> plans = await PlanAsync(await machines.ListByHostAsync(vm.HostName, cancellationToken), cancellationToken);
        return plans.TryGetValue(vm.VmId, out IReadOnlyList<VmNetworkInterfaceSpec>? nics) ? nics : [];
    }

    private async Task<VmNetworkInterfaceSpec?> NicAsync(VirtualMachineRecord vm, string id, bool primary, HashSet<int> taken, CancellationToken cancellationToken)
    {
        NetworkResourceRecord? nic = await FindAsync(id, NetworkInterfaces, cancellationToken);
        if (nic is null)
            return null; // removed since the VM was accepted; the VM boots without it
        JsonObject desired = NetworkViews.DesiredOf(nic);
        var groups = new List<(string, JsonObject)>();
        if (await FindAsync(Text(Member(desired["properties"], "networkSecurityGroup"), "id"), NetworkSecurityGroups, cancellationToken) is NetworkResourceRecord nicGroup)
            groups.Add((nicGroup.Name, NetworkViews.DesiredOf(nicGroup)));
        JsonNode? firstConfiguration = Items(desired["properties"], "ipConfigurations").FirstOrDefault();
        JsonNode? configuration = Member(firstConfiguration, "properties");
        string? subnetId = Text(Member(configuration, "subnet"), "id");
        (JsonNode? subnet, (string, JsonObject)? subnetGroup) = await SubnetAsync(subnetId, cancellationToken);
        if (subnetGroup is (string, JsonObject) found)
            groups.Add(found);
        string? address = Member(NetworkViews.ComputedOf(nic)["addresses"], Text(firstConfiguration, "name") ?? "ipconfig1")?.ToString();
        var ignored = new List<Arm.ArmErrorDetail>();
        AddressPrefix? prefix = subnet is not null && NetworkValidation.SubnetPrefixes(subnet, subnetId!, "", ignored) is { Count: > 0 } prefixes ? prefixes[0] : null;
        bool publicIp = Text(Member(configuration, "publicIPAddress"), "id") is not null;
        var forwards = new List<HostForward>();
        foreach ((int port, string rule) in SecurityRuleEvaluation.AllowedTcpPorts(groups))
        {
            forwards.Add(new HostForward
            {
                Protocol = "tcp",
                HostAddress = publicIp ? "0.0.0.0" : "127.0.0.1",
                HostPort = HostPort(vm.VmId, id, port, taken),
                GuestPort = port,
                Rule = rule,
            });
        }

        string mac = NetworkViews.ComputedOf(nic)["macAddress"]?.GetValue<string>() ?? throw new InvalidOperationException($"The NIC {id} has no MAC address.");
        return new VmNetworkInterfaceSpec
        {
            Id = id, MacAddress = mac, Primary = primary, HostForwards = forwards, PrivateIPAddress = address, SubnetPrefix = prefix?.ToString(),
        };
    }

    // The subnet's declaration and its NSG (name and body), if it has one.
    private async Task<(JsonNode? Subnet, (string, JsonObject)? Group)> SubnetAsync(string? subnetId, CancellationToken cancellationToken)
    {
        if (subnetId is null || await FindAsync(subnetId, VirtualNetworks, cancellationToken) is not NetworkResourceRecord vnet)
            return (null, null);
        JsonNode? subnet = Items(NetworkViews.DesiredOf(vnet)["properties"], "subnets")
            .FirstOrDefault(s => string.Equals(Text(s, "name"), subnetId[(subnetId.LastIndexOf('/') + 1)..], StringComparison.OrdinalIgnoreCase));
        string? groupId = Text(Member(Member(subnet, "properties"), "networkSecurityGroup"), "id");
        return await FindAsync(groupId, NetworkSecurityGroups, cancellationToken) is NetworkResourceRecord group
            ? (subnet, (group.Name, NetworkViews.DesiredOf(group)))
            : (subnet, null);
    }

    // The stored record for an id, when its (first) type is the expected one: a subnet id finds its virtual network.
    private async Task<NetworkResourceRecord?> FindAsync(string? id, string type, CancellationToken cancellationToken)
    {
        if (ParseId(id) is not var (subscription, group, idType, name) || !idType.StartsWith(type, StringComparison.OrdinalIgnoreCase))
            return null;
        return await store.GetAsync(subscription, group, type, name.Split('/')[0], cancellationToken);
    }

    private int HostPort(Guid vmId, string nicId, int guestPort, HashSet<int> taken)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{vmId:N}|{nicId.ToUpperInvariant()}|{guestPort}"));
        int count = options.HostForwardPortCount;
        int start = (int)(BitConverter.ToUInt32(hash, 0) % (uint)count);
        for (int i = 0; i < count; i++)
        {
            int port = options.HostForwardFirstPort + (start + i) % count;
            if (taken.Add(port))
                return port;
        }

        throw new InvalidOperationException($"No host port is left in {options.HostForwardFirstPort}-{options.HostForwardFirstPort + count - 1}.");
    }
}
