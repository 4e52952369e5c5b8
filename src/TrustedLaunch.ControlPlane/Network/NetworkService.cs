using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TrustedLaunch.ArmTemplates;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using static TrustedLaunch.ControlPlane.Network.NetworkTypes;

namespace TrustedLaunch.ControlPlane.Network;

/// <summary>A network resource's address: subscription, group, ARM type and full name (<c>vnet/subnet</c> for subnets).</summary>
public readonly record struct NetworkKey(string SubscriptionId, string ResourceGroup, string Type, string Name)
{
    public string Id => NetworkTypes.Id(SubscriptionId, ResourceGroup, Type, Name);
}

/// <summary>The answer to a PUT: the resource as GET shows it, whether it was created, and whether anything changed.</summary>
public sealed record NetworkWrite(JsonObject Resource, bool Created, bool Unchanged);

/// <summary>
/// The minimal network model: virtual networks (with subnets), network security groups, public IP addresses and
/// network interfaces, stored with their ARM shapes after validation (prefixes parse and nest, references resolve,
/// rules are well formed). Private IPs are allocated from the subnet as Azure does (from .4); public IPs are recorded,
/// not routed. A PUT that changes nothing changes nothing (same ETag).
/// </summary>
public sealed class NetworkService(INetworkResourceStore store, IResourceGroupStore groups, NetworkInUse inUse, HostNetworkPlanner hostNetwork,
    IHostStore hosts, Hosts.HostSignals signals, TimeProvider time)
{
    public async Task<ArmResult<NetworkWrite>> PutAsync(NetworkKey key, JsonObject body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        string? type = Canonical(key.Type);
        if (type is null)
            return ArmErrors.Fail(ArmErrors.BadRequest, "InvalidResourceType", $"The resource type '{key.Type}' is not served: the network model has {string.Join(", ", Stored.Append(Subnets))}.");
        if (ArmNames.CheckResourceGroup(key.ResourceGroup) is ArmFailure badGroup)
            return badGroup;
        ResourceGroupRecord? group = await groups.GetAsync(key.SubscriptionId, key.ResourceGroup, cancellationToken);
        if (group is null)
            return ArmErrors.ResourceGroupNotFound(key.ResourceGroup);
        if (group.State == ResourceGroupState.Deleting)
            return ArmErrors.ResourceGroupBeingDeleted(group.Name);
        key = key with { Type = type };
        return type == Subnets
            ? await PutSubnetAsync(key, body, cancellationToken)
            : await PutStoredAsync(key, body, group.Location, cancellationToken);
    }

    public async Task<ArmResult<JsonObject>> GetAsync(NetworkKey key, CancellationToken cancellationToken)
    {
        string type = Canonical(key.Type) ?? key.Type;
        if (type == Subnets)
        {
            string[] names = key.Name.Split('/');
            NetworkResourceRecord? vnet = await store.GetAsync(key.SubscriptionId, key.ResourceGroup, VirtualNetworks, names[0], cancellationToken);
            JsonObject? subnet = vnet is null ? null : NetworkViews.Resource(vnet)["properties"]!["subnets"]!.AsArray()
                .OfType<JsonObject>().FirstOrDefault(s => string.Equals(Text(s, "name"), names[^1], StringComparison.OrdinalIgnoreCase));
            return subnet is null ? NotFound(key) : ArmResult.Ok((JsonObject)subnet.DeepClone());
        }

        NetworkResourceRecord? found = await store.GetAsync(key.SubscriptionId, key.ResourceGroup, type, key.Name, cancellationToken);
        if (found is null)
            return NotFound(key);
        JsonObject resource = NetworkViews.Resource(found);
        if (type == NetworkInterfaces)
            await AddAttachmentAsync(resource, cancellationToken);
        return ArmResult.Ok(resource);
    }

    // A NIC's GET shows the VM it is attached to (Azure's properties.virtualMachine.id) and, ours, the host forwards its
    // host gives it (properties.trustedLaunchExtensions.hostForwards: where to reach the guest's allowed TCP ports).
    private async Task AddAttachmentAsync(JsonObject nic, CancellationToken cancellationToken)
    {
        string id = nic["id"]!.GetValue<string>();
        if (ParseId(id) is not var (subscription, _, _, _) || await inUse.InterfaceUserAsync(id, null, subscription, cancellationToken) is not State.VirtualMachineRecord vm)
            return;
        var properties = (JsonObject)nic["properties"]!;
        properties["virtualMachine"] = new JsonObject { ["id"] = Arm.ResourceIds.VirtualMachine(vm.SubscriptionId, vm.ResourceGroup, vm.Name) };
        Hosts.VmNetworkInterfaceSpec? spec = (await hostNetwork.PlanVmAsync(vm, cancellationToken))
            .FirstOrDefault(n => string.Equals(n.Id, id, StringComparison.OrdinalIgnoreCase));
        properties["trustedLaunchExtensions"] = new JsonObject
        {
            ["hostName"] = vm.HostName,
            ["hostForwards"] = new JsonArray((spec?.HostForwards ?? []).Select(f => (JsonNode?)new JsonObject
            {
                ["protocol"] = f.Protocol, ["hostAddress"] = f.HostAddress, ["hostPort"] = f.HostPort, ["guestPort"] = f.GuestPort, ["rule"] = f.Rule,
            }).ToArray()),
        };
    }

    public async Task<ArmResult<IReadOnlyList<JsonObject>>> ListAsync(string subscriptionId, string resourceGroup, string type, CancellationToken cancellationToken)
    {
        if (await groups.GetAsync(subscriptionId, resourceGroup, cancellationToken) is null)
            return ArmErrors.ResourceGroupNotFound(resourceGroup);
        IReadOnlyList<NetworkResourceRecord> all = await store.ListAsync(subscriptionId, resourceGroup, Canonical(type) ?? type, cancellationToken);
        return ArmResult.Ok<IReadOnlyList<JsonObject>>(all.Select(NetworkViews.Resource).ToArray());
    }

    /// <summary>
    /// Removes a stored resource (false when it did not exist), refused with Azure's error while another resource uses
    /// it (a NIC its subnet, public IP or NSG, a subnet its NSG, a VM its NIC). Subnets are removed by updating their network.
    /// </summary>
    public async Task<ArmResult<bool>> DeleteAsync(NetworkKey key, CancellationToken cancellationToken)
    {
        string type = Canonical(key.Type) ?? key.Type;
        NetworkResourceRecord? found = await store.GetAsync(key.SubscriptionId, key.ResourceGroup, type, key.Name, cancellationToken);
        if (found is null)
            return ArmResult.Ok(false);
        if (await inUse.RefuseDeleteAsync(found, cancellationToken) is ArmFailure refused)
            return refused;
        bool removed = await store.RemoveAsync(key.SubscriptionId, key.ResourceGroup, type, key.Name, cancellationToken);
        if (removed)
            await NotifyHostsAsync(cancellationToken);
        return ArmResult.Ok(removed);
    }

    /// <summary>The stored record of a network resource id, or null.</summary>
    public async Task<NetworkResourceRecord?> FindAsync(string? id, CancellationToken cancellationToken)
    {
        if (ParseId(id) is not var (subscription, group, type, name) || Canonical(type) is not string canonical)
            return null;
        if (canonical == Subnets)
            canonical = VirtualNetworks;
        return await store.GetAsync(subscription, group, canonical, name.Split('/')[0], cancellationToken);
    }

    private async Task<ArmResult<NetworkWrite>> PutStoredAsync(NetworkKey key, JsonObject body, string groupLocation, CancellationToken cancellationToken)
    {
        string location = Arm.ResourceIds.NormalizeLocation(Text(body, "location") ?? groupLocation);
        var errors = new List<ArmErrorDetail>();
        NetworkResourceRecord? previous = await store.GetAsync(key.SubscriptionId, key.ResourceGroup, key.Type, key.Name, cancellationToken);
        JsonObject desired = NetworkViews.Desired(body, location);
        if (key.Type == VirtualNetworks && Member(desired["properties"], "subnets") is null && previous is not null)
        {
            // A virtual network PUT without 'subnets' keeps the ones it has (declared as separate subnet resources).
            desired["properties"]!["subnets"] = NetworkViews.DesiredOf(previous)["properties"]?["subnets"]?.DeepClone();
        }

        switch (key.Type)
        {
            case VirtualNetworks:
                NetworkValidation.VirtualNetwork(desired, key.Id, key.Name, errors);
                if (previous is not null && await DroppedSubnetInUseAsync(key, previous, desired, cancellationToken) is ArmFailure inUseSubnet)
                    return inUseSubnet;
                break;
            case NetworkSecurityGroups:
                NetworkValidation.SecurityGroup(desired, errors);
                break;
            case PublicIPAddresses:
                NetworkValidation.PublicIp(desired, errors);
                break;
            default:
                await CheckInterfaceAsync(desired, key, errors, cancellationToken);
                break;
        }

        if (errors.Count > 0)
            return ArmFailure.FromViolations(ArmErrors.BadRequest, errors);
        if (previous is not null && !previous.Location.Equals(location, StringComparison.OrdinalIgnoreCase))
            return ArmErrors.InvalidResourceLocation(key.Name, previous.Location, key.ResourceGroup, location);
        if (previous is not null && TemplateValues.DeepEquals(NetworkViews.DesiredOf(previous), desired))
            return ArmResult.Ok(new NetworkWrite(NetworkViews.Resource(previous), Created: false, Unchanged: true));

        JsonObject computed = key.Type == NetworkInterfaces
            ? await AllocateAsync(key, desired, previous, cancellationToken)
            : [];
        return await SaveAsync(key, location, desired, computed, previous, cancellationToken);
    }

    private async Task<ArmResult<NetworkWrite>> PutSubnetAsync(NetworkKey key, JsonObject body, CancellationToken cancellationToken)
    {
        string[] names = key.Name.Split('/');
        if (names.Length != 2)
            return ArmErrors.Fail(ArmErrors.BadRequest, "InvalidResourceName", $"A subnet's name is '<virtualNetwork>/<subnet>', not '{key.Name}'.");
        NetworkResourceRecord? vnet = await store.GetAsync(key.SubscriptionId, key.ResourceGroup, VirtualNetworks, names[0], cancellationToken);
        if (vnet is null)
            return ArmErrors.Fail(ArmErrors.NotFound, "ParentResourceNotFound", $"Can not perform requested operation on nested resource. Parent resource '{names[0]}' not found.");
        JsonObject desired = NetworkViews.DesiredOf(vnet);
        var subnet = new JsonObject { ["name"] = names[1], ["properties"] = Member(body, "properties")?.DeepClone() ?? new JsonObject() };
        JsonArray subnets = desired["properties"]!["subnets"] as JsonArray ?? [];
        int existing = subnets.Select((s, i) => (s, i)).FirstOrDefault(p => string.Equals(Text(p.s, "name"), names[1], StringComparison.OrdinalIgnoreCase), (null, -1)).Item2;
        if (existing >= 0)
        {
            if (TemplateValues.DeepEquals(subnets[existing], subnet))
                return ArmResult.Ok(new NetworkWrite(Subnet(vnet, names[1]), Created: false, Unchanged: true));
            subnets[existing] = subnet;
        }
        else
        {
            subnets.Add((JsonNode)subnet);
        }

        desired["properties"]!["subnets"] = subnets.Parent is null ? subnets : subnets.DeepClone();
        var errors = new List<ArmErrorDetail>();
        NetworkValidation.VirtualNetwork(desired, key.Id, names[0], errors);
        if (errors.Count > 0)
            return ArmFailure.FromViolations(ArmErrors.BadRequest, errors);
        var vnetKey = key with { Type = VirtualNetworks, Name = names[0] };
        ArmResult<NetworkWrite> saved = await SaveAsync(vnetKey, vnet.Location, desired, [], vnet, cancellationToken);
        if (saved.Failure is ArmFailure failure)
            return failure;
        NetworkResourceRecord updated = (await store.GetAsync(key.SubscriptionId, key.ResourceGroup, VirtualNetworks, names[0], cancellationToken))!;
        return ArmResult.Ok(new NetworkWrite(Subnet(updated, names[1]), Created: existing < 0, Unchanged: false));
    }

    // A network PUT whose subnets leave out one that an IP configuration still uses is refused, as deleting that subnet is.
    private async Task<ArmFailure?> DroppedSubnetInUseAsync(NetworkKey key, NetworkResourceRecord previous, JsonObject desired, CancellationToken cancellationToken)
    {
        var kept = Items(desired["properties"], "subnets").Select(s => Text(s, "name")).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (string? dropped in Items(NetworkViews.DesiredOf(previous)["properties"], "subnets").Select(s => Text(s, "name")).Where(n => n is not null && !kept.Contains(n)))
        {
            if (await inUse.SubnetRefusalAsync(key.SubscriptionId, $"{key.Id}/subnets/{dropped}", cancellationToken) is ArmFailure refused)
                return refused;
        }

        return null;
    }

    private static JsonObject Subnet(NetworkResourceRecord vnet, string name) => (JsonObject)NetworkViews.Resource(vnet)["properties"]!["subnets"]!.AsArray()
        .First(s => string.Equals(Text(s, "name"), name, StringComparison.OrdinalIgnoreCase))!.DeepClone();

    private async Task CheckInterfaceAsync(JsonObject desired, NetworkKey key, List<ArmErrorDetail> errors, CancellationToken cancellationToken)
    {
        JsonNode? properties = desired["properties"];
        JsonNode?[] configurations = Items(properties, "ipConfigurations").ToArray();
        if (configurations.Length == 0)
            errors.Add(NetworkValidation.Error("IpConfigurationRequired", $"The network interface {key.Name} needs at least one entry in properties.ipConfigurations.", "properties.ipConfigurations"));
        for (int i = 0; i < configurations.Length; i++)
        {
            string target = $"properties.ipConfigurations[{i}].properties";
            JsonNode? configuration = Member(configurations[i], "properties");
            string? subnetId = Text(Member(configuration, "subnet"), "id");
            if (subnetId is null)
                errors.Add(NetworkValidation.Error("InvalidRequestFormat", "An IP configuration needs properties.subnet.id.", $"{target}.subnet.id"));
            else if (!await SubnetExistsAsync(subnetId, cancellationToken))
                errors.Add(NetworkValidation.MissingReference(subnetId, key.Id, $"{target}.subnet.id"));
            if (Text(Member(configuration, "publicIPAddress"), "id") is string ipId && await FindTypedAsync(ipId, PublicIPAddresses, cancellationToken) is null)
                errors.Add(NetworkValidation.MissingReference(ipId, key.Id, $"{target}.publicIPAddress.id"));
        }

        if (Text(Member(properties, "networkSecurityGroup"), "id") is string nsgId && await FindTypedAsync(nsgId, NetworkSecurityGroups, cancellationToken) is null)
            errors.Add(NetworkValidation.MissingReference(nsgId, key.Id, "properties.networkSecurityGroup.id"));
    }

    private async Task<bool> SubnetExistsAsync(string subnetId, CancellationToken cancellationToken)
    {
        if (ParseId(subnetId) is not var (_, _, type, name) || !type.Equals(Subnets, StringComparison.OrdinalIgnoreCase))
            return false;
        return await FindAsync(subnetId, cancellationToken) is NetworkResourceRecord vnet
            && Items(NetworkViews.DesiredOf(vnet)["properties"], "subnets").Any(s => string.Equals(Text(s, "name"), name.Split('/')[^1], StringComparison.OrdinalIgnoreCase));
    }

    private async Task<NetworkResourceRecord?> FindTypedAsync(string id, string type, CancellationToken cancellationToken) =>
        ParseId(id) is var (_, _, t, _) && t.Equals(type, StringComparison.OrdinalIgnoreCase) ? await FindAsync(id, cancellationToken) : null;

    // Each IP configuration keeps the address it had; new ones get the subnet's lowest free address from .4 up
    // (Azure keeps .0-.3 and the last for itself).
    private async Task<JsonObject> AllocateAsync(NetworkKey key, JsonObject desired, NetworkResourceRecord? previous, CancellationToken cancellationToken)
    {
        JsonObject before = previous is null ? [] : NetworkViews.ComputedOf(previous);
        var addresses = new JsonObject();
        foreach (JsonNode? configuration in Items(desired["properties"], "ipConfigurations"))
        {
            string name = Text(configuration, "name") ?? "ipconfig1";
            JsonNode? properties = Member(configuration, "properties");
            if (Text(properties, "privateIPAddress") is string fixedAddress
                && string.Equals(Text(properties, "privateIPAllocationMethod"), "Static", StringComparison.OrdinalIgnoreCase))
            {
                addresses[name] = fixedAddress;
                continue;
            }

            if (Member(before["addresses"], name) is JsonNode kept)
            {
                addresses[name] = kept.DeepClone();
                continue;
            }

            string subnetId = Text(Member(properties, "subnet"), "id")!;
            NetworkResourceRecord vnet = (await FindAsync(subnetId, cancellationToken))!;
            JsonNode? subnet = Items(NetworkViews.DesiredOf(vnet)["properties"], "subnets")
                .First(s => string.Equals(Text(s, "name"), subnetId.Split('/')[^1], StringComparison.OrdinalIgnoreCase));
            var ignored = new List<ArmErrorDetail>();
            AddressPrefix prefix = NetworkValidation.SubnetPrefixes(subnet, subnetId, "", ignored)[0];
            HashSet<string> taken = await TakenAddressesAsync(key, cancellationToken);
            addresses[name] = Enumerable.Range(4, (int)System.Numerics.BigInteger.Min(prefix.Size - 5, 65536)).Select(i => prefix.Host(i).ToString())
                .FirstOrDefault(a => !taken.Contains(a));
        }

        return new JsonObject
        {
            ["addresses"] = addresses,
            ["macAddress"] = before["macAddress"]?.DeepClone() ?? MacAddress(key.Id),
        };
    }

    private async Task<HashSet<string>> TakenAddressesAsync(NetworkKey key, CancellationToken cancellationToken)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (NetworkResourceRecord nic in await store.ListAsync(key.SubscriptionId, key.ResourceGroup, NetworkInterfaces, cancellationToken))
        {
            if (!nic.Name.Equals(key.Name, StringComparison.OrdinalIgnoreCase) && NetworkViews.ComputedOf(nic)["addresses"] is JsonObject used)
                taken.UnionWith(used.Select(a => TemplateValues.ToText(a.Value)));
        }

        return taken;
    }

    /// <summary>A stable MAC in Microsoft's OUI (00-0D-3A), as Azure's NICs have, from the NIC's id.</summary>
    private static string MacAddress(string id)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(id.ToUpperInvariant()));
        return $"00-0D-3A-{hash[0]:X2}-{hash[1]:X2}-{hash[2]:X2}";
    }

    private async Task<ArmResult<NetworkWrite>> SaveAsync(NetworkKey key, string location, JsonObject desired, JsonObject computed,
        NetworkResourceRecord? previous, CancellationToken cancellationToken)
    {
        var record = new NetworkResourceRecord
        {
            SubscriptionId = key.SubscriptionId,
            ResourceGroup = key.ResourceGroup,
            Type = key.Type,
            Name = previous?.Name ?? key.Name,
            Location = location,
            Version = (previous?.Version ?? 0) + 1,
            BodyJson = new JsonObject { ["desired"] = desired, ["computed"] = computed }.ToJsonString(),
            ChangedAt = time.GetUtcNow(),
        };
        WriteOutcome outcome = await store.SaveAsync(record, previous?.Version, cancellationToken);
        if (outcome == WriteOutcome.Written)
            await NotifyHostsAsync(cancellationToken);
        return outcome switch
        {
            WriteOutcome.Written => ArmResult.Ok(new NetworkWrite(NetworkViews.Resource(record), Created: previous is null, Unchanged: false)),
            WriteOutcome.ResourceGroupMissing => ArmErrors.ResourceGroupNotFound(key.ResourceGroup),
            WriteOutcome.ResourceGroupDeleting => ArmErrors.ResourceGroupBeingDeleted(key.ResourceGroup),
            _ => ArmErrors.AnotherOperationInProgress(key.Id),
        };
    }

    // An NSG, NIC or subnet change may change the host forwards of running VMs: every host's poll is woken to read its
    // assignments again (their token changes only when some VM's forwards did).
    private async Task NotifyHostsAsync(CancellationToken cancellationToken)
    {
        foreach (State.HostRecord host in await hosts.ListAsync(cancellationToken))
            signals.Notify(host.Name);
    }

    private static ArmFailure NotFound(NetworkKey key) => ArmErrors.ResourceNotFound(Canonical(key.Type) ?? key.Type, key.Name, key.ResourceGroup);
}
