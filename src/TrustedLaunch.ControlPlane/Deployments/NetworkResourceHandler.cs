using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Network;

namespace TrustedLaunch.ControlPlane.Deployments;

/// <summary>Deploys one Microsoft.Network type through the <see cref="NetworkService"/> (synchronous: no host is involved).</summary>
public sealed class NetworkResourceHandler(string resourceType, NetworkService network) : IResourceTypeHandler
{
    public string ResourceType => resourceType;

    public Task<ArmErrorDetail?> ValidateAsync(ResourceDeployment resource, CancellationToken cancellationToken) => Task.FromResult<ArmErrorDetail?>(null);

    public async Task<ResourceDeploymentResult> DeployAsync(ResourceDeployment resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArmResult<NetworkWrite> written = await network.PutAsync(
            new NetworkKey(resource.SubscriptionId, resource.ResourceGroup, resource.Type, resource.Name), resource.Body, cancellationToken);
        if (written.Failure is ArmFailure failure)
            return ResourceDeploymentResult.Failed(failure);
        return new ResourceDeploymentResult { State = written.Value!.Resource, Created = written.Value.Created, Unchanged = written.Value.Unchanged };
    }

    public async Task<JsonObject?> GetStateAsync(string subscriptionId, string resourceGroup, string name, CancellationToken cancellationToken) =>
        (await network.GetAsync(new NetworkKey(subscriptionId, resourceGroup, resourceType, name), cancellationToken)).Value;

    public async Task<IReadOnlyList<string>> ListNamesAsync(string subscriptionId, string resourceGroup, CancellationToken cancellationToken)
    {
        if (resourceType.Equals(NetworkTypes.Subnets, StringComparison.OrdinalIgnoreCase))
            return []; // a subnet goes with its network (or with a PUT of the network that leaves it out)
        ArmResult<IReadOnlyList<JsonObject>> listed = await network.ListAsync(subscriptionId, resourceGroup, resourceType, cancellationToken);
        return [.. (listed.Value ?? []).Select(r => r["name"]!.GetValue<string>())];
    }

    public async Task<ArmFailure?> DeleteAsync(string subscriptionId, string resourceGroup, string name, CancellationToken cancellationToken) =>
        (await network.DeleteAsync(new NetworkKey(subscriptionId, resourceGroup, resourceType, name), cancellationToken)).Failure;

    public int DeleteOrder => resourceType switch
    {
        NetworkTypes.NetworkInterfaces => 1,
        NetworkTypes.VirtualNetworks => 3,
        _ => 2,
    };
}
