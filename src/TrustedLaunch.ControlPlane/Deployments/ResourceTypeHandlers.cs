using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane.Arm;

namespace TrustedLaunch.ControlPlane.Deployments;

/// <summary>What a handler is asked to deploy: one template resource, its body evaluated.</summary>
public sealed record ResourceDeployment(string SubscriptionId, string ResourceGroup, string Type, string Name, string ApiVersion, JsonObject Body);

/// <summary>What came of it: the resource's state as a GET answers it (for <c>reference()</c>), or its provider's error.</summary>
public sealed record ResourceDeploymentResult
{
    public JsonObject? State { get; init; }

    public ArmFailure? Failure { get; init; }

    /// <summary>The resource already was as declared: nothing changed (incremental mode's no-op).</summary>
    public bool Unchanged { get; init; }

    public bool Created { get; init; }

    public static ResourceDeploymentResult Failed(ArmFailure failure) => new() { Failure = failure };
}

/// <summary>
/// Deploys one resource type for the deployment engine. A handler checks what it can before anything is created
/// (<see cref="ValidateAsync"/>), then creates or updates the resource and waits until its provider has converged it.
/// </summary>
public interface IResourceTypeHandler
{
    /// <summary>The ARM type, e.g. <c>Microsoft.Compute/virtualMachines</c> (matched case-insensitively).</summary>
    string ResourceType { get; }

    /// <summary>Refusals known before anything is deployed (an unmapped image); null when the body looks deployable.</summary>
    Task<ArmErrorDetail?> ValidateAsync(ResourceDeployment resource, CancellationToken cancellationToken);

    Task<ResourceDeploymentResult> DeployAsync(ResourceDeployment resource, CancellationToken cancellationToken);

    /// <summary>The resource's current state (for <c>reference()</c> of a resource this deployment did not change), or null.</summary>
    Task<JsonObject?> GetStateAsync(string subscriptionId, string resourceGroup, string name, CancellationToken cancellationToken);

    /// <summary>
    /// The body as what-if compares it with <see cref="GetStateAsync"/>: by default the template's body; a type whose
    /// provider does not keep some members (a VM's adminPassword) leaves them out here, so they do not read as changes.
    /// </summary>
    JsonObject ComparableBody(JsonObject body) => body;

    /// <summary>
    /// The names of this type's resources in the group that a Complete deployment deletes when its template does not name
    /// them (ARM's complete-mode deletion: child types such as extensions and subnets go with their parent, so none).
    /// </summary>
    Task<IReadOnlyList<string>> ListNamesAsync(string subscriptionId, string resourceGroup, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([]);

    /// <summary>Deletes the resource for a Complete deployment and waits until it is gone; its provider's refusal otherwise.</summary>
    Task<ArmFailure?> DeleteAsync(string subscriptionId, string resourceGroup, string name, CancellationToken cancellationToken) =>
        Task.FromResult<ArmFailure?>(null);

    /// <summary>Complete mode deletes types in this order, lowest first: a VM before its NIC, a NIC before its network and NSG.</summary>
    int DeleteOrder => 0;
}

/// <summary>
/// The resource types templates may deploy, one handler each. The composition root registers every
/// <see cref="IResourceTypeHandler"/> it has (VMs and their extensions, the network types; scale sets register theirs the
/// same way); a template with any other type fails validation naming it.
/// </summary>
public sealed class ResourceTypeRegistry
{
    private readonly Dictionary<string, IResourceTypeHandler> _handlers = new(StringComparer.OrdinalIgnoreCase);

    public ResourceTypeRegistry(IEnumerable<IResourceTypeHandler> handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        foreach (IResourceTypeHandler handler in handlers)
        {
            if (!_handlers.TryAdd(handler.ResourceType, handler))
                throw new ArgumentException($"Two handlers for the resource type '{handler.ResourceType}'.", nameof(handlers));
        }
    }

    public IEnumerable<string> Types => _handlers.Keys.Order(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every handler, in the order a Complete deployment deletes their types (<see cref="IResourceTypeHandler.DeleteOrder"/>).</summary>
    public IEnumerable<IResourceTypeHandler> InDeleteOrder => _handlers.Values.OrderBy(h => h.DeleteOrder).ThenBy(h => h.ResourceType, StringComparer.OrdinalIgnoreCase);

    public IResourceTypeHandler? Find(string type) => _handlers.GetValueOrDefault(type);
}
