using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Network;
using static TrustedLaunch.ControlPlane.Network.NetworkTypes;

namespace TrustedLaunch.ControlPlane.ScaleSets;

/// <summary>
/// The NICs of a flexible scale set's instances: the model's references checked once (subnets and NSGs exist in the
/// scale set's region, NIC names fit), then for each new instance one <c>Microsoft.Network/networkInterfaces</c>
/// resource per configuration, <c>{instance}-{configuration}</c> in the scale set's resource group, made through
/// <see cref="NetworkService"/> as a NIC PUT (private IP from the subnet, MAC, the configuration's NSG). The instance
/// names them in its <c>networkProfile</c> with the configuration's <c>deleteOption</c>, so a Delete NIC goes with it
/// (<see cref="VmNicRelease"/>).
/// </summary>
public sealed class ScaleSetNetwork(NetworkService network)
{
    private const string Target = "properties.virtualMachineProfile.networkProfile.networkInterfaceConfigurations";

    /// <summary>Every reference of the model that does not resolve in <paramref name="location"/>, and NIC names too long.</summary>
    public async Task<IReadOnlyList<ArmErrorDetail>> CheckAsync(ScaleSetKey key, string location, ScaleSetNetworkProfile? profile, CancellationToken cancellationToken)
    {
        var errors = new List<ArmErrorDetail>();
        IReadOnlyList<ScaleSetNetworkConfiguration> configurations = profile?.NetworkInterfaceConfigurations ?? [];
        for (int i = 0; i < configurations.Count; i++)
        {
            string target = $"{Target}[{i}]";
            ScaleSetNetworkConfigurationProperties? properties = configurations[i].Properties;
            int nicNameLength = ScaleSetNetworkRules.NicName($"{key.Name}_00000000", configurations[i].Name ?? "").Length;
            if (nicNameLength > ScaleSetNetworkRules.NicNameMaxLength)
                errors.Add(NetworkValidation.Error("InvalidParameter",
                    $"The network interface configuration name '{configurations[i].Name}' is too long: the instances' NICs are named '{key.Name}_<8 characters>-{configurations[i].Name}', which must have at most {ScaleSetNetworkRules.NicNameMaxLength} characters.",
                    $"{target}.name"));
            if (properties?.NetworkSecurityGroup?.Id is string nsgId && !await ExistsAsync(nsgId, NetworkSecurityGroups, location, cancellationToken))
                errors.Add(NetworkValidation.MissingReference(nsgId, key.ResourceId, $"{target}.properties.networkSecurityGroup.id"));
            IReadOnlyList<ScaleSetIPConfiguration> ips = properties?.IpConfigurations ?? [];
            for (int j = 0; j < ips.Count; j++)
            {
                if (ips[j].Properties?.Subnet?.Id is string subnetId && !await SubnetExistsAsync(subnetId, location, cancellationToken))
                    errors.Add(NetworkValidation.MissingReference(subnetId, key.ResourceId, $"{target}.properties.ipConfigurations[{j}].properties.subnet.id"));
            }
        }

        return errors;
    }

    /// <summary>
    /// Makes the NICs of a new instance (none when the model has no configurations) and answers the instance's
    /// <c>networkProfile</c>; on a refusal, the NICs already made for it are removed and the refusal answered.
    /// </summary>
    public async Task<ArmResult<NetworkProfile?>> CreateAsync(VirtualMachineScaleSetRecord scaleSet, string instanceName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scaleSet);
        ScaleSetNetworkProfile? profile = ScaleSetNetworkRules.WithDefaults(scaleSet.Model.Properties?.VirtualMachineProfile?.NetworkProfile);
        if (profile is null)
            return ArmResult.Ok<NetworkProfile?>(null);
        var made = new List<NetworkInterfaceReference>();
        foreach (ScaleSetNetworkConfiguration configuration in profile.NetworkInterfaceConfigurations!)
        {
            var key = new NetworkKey(scaleSet.SubscriptionId, scaleSet.ResourceGroup, NetworkInterfaces, ScaleSetNetworkRules.NicName(instanceName, configuration.Name!));
            ArmResult<NetworkWrite> nic = await network.PutAsync(key, NicBody(scaleSet, configuration), cancellationToken);
            if (nic.Failure is ArmFailure failure)
            {
                await RemoveAsync(new NetworkProfile { NetworkInterfaces = made }, cancellationToken);
                return failure;
            }

            made.Add(new NetworkInterfaceReference
            {
                Id = key.Id,
                Properties = new NetworkInterfaceReferenceProperties { Primary = configuration.Properties!.Primary, DeleteOption = configuration.Properties.DeleteOption },
            });
        }

        return ArmResult.Ok<NetworkProfile?>(new NetworkProfile { NetworkInterfaces = made });
    }

    /// <summary>Removes NICs made for an instance that was then refused (whatever their deleteOption: no VM ever had them).</summary>
    public async Task RemoveAsync(NetworkProfile? nics, CancellationToken cancellationToken)
    {
        foreach (NetworkInterfaceReference reference in nics?.NetworkInterfaces ?? [])
        {
            if (ParseId(reference.Id) is var (subscription, group, _, name))
                _ = await network.DeleteAsync(new NetworkKey(subscription, group, NetworkInterfaces, name), cancellationToken);
        }
    }

    // The NIC as a Microsoft.Network PUT carries it: the configuration's NSG and IP configurations (dynamic addresses).
    private static JsonObject NicBody(VirtualMachineScaleSetRecord scaleSet, ScaleSetNetworkConfiguration configuration)
    {
        ScaleSetNetworkConfigurationProperties properties = configuration.Properties!;
        var nicProperties = new JsonObject
        {
            ["enableAcceleratedNetworking"] = properties.EnableAcceleratedNetworking ?? false,
            ["ipConfigurations"] = new JsonArray([.. (properties.IpConfigurations ?? []).Select(ip => (JsonNode)new JsonObject
            {
                ["name"] = ip.Name,
                ["properties"] = new JsonObject
                {
                    ["primary"] = ip.Properties!.Primary ?? true,
                    ["privateIPAllocationMethod"] = "Dynamic",
                    ["subnet"] = new JsonObject { ["id"] = ip.Properties.Subnet!.Id },
                },
            })]),
        };
        if (properties.NetworkSecurityGroup?.Id is string nsgId)
            nicProperties["networkSecurityGroup"] = new JsonObject { ["id"] = nsgId };
        return new JsonObject { ["location"] = scaleSet.Location, ["properties"] = nicProperties };
    }

    private async Task<bool> ExistsAsync(string id, string type, string location, CancellationToken cancellationToken) =>
        ParseId(id) is var (_, _, idType, _) && idType.Equals(type, StringComparison.OrdinalIgnoreCase)
        && await network.FindAsync(id, cancellationToken) is { } found && found.Location.Equals(location, StringComparison.OrdinalIgnoreCase);

    private async Task<bool> SubnetExistsAsync(string subnetId, string location, CancellationToken cancellationToken) =>
        ParseId(subnetId) is var (subscription, group, type, name) && type.Equals(Subnets, StringComparison.OrdinalIgnoreCase)
        && await ExistsAsync(subnetId, Subnets, location, cancellationToken)
        && (await network.GetAsync(new NetworkKey(subscription, group, Subnets, name), cancellationToken)).Failure is null;
}
