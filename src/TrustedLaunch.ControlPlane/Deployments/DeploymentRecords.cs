using TrustedLaunch.ControlPlane.Arm;

namespace TrustedLaunch.ControlPlane.Deployments;

/// <summary>
/// A resource group deployment (<c>Microsoft.Resources/deployments</c>) as stored: its state as ARM reports it
/// (<c>Accepted</c>, <c>Running</c>, <c>Succeeded</c>, <c>Failed</c>), the parameters as shown (secure ones without
/// their values), outputs, error and per-resource operations. The template itself is not kept.
/// </summary>
public sealed record DeploymentRecord
{
    public required string SubscriptionId { get; init; }

    public required string ResourceGroup { get; init; }

    public required string Name { get; init; }

    public required string ProvisioningState { get; init; }

    public required string CorrelationId { get; init; }

    public required DateTimeOffset StartTime { get; init; }

    /// <summary>When the state last changed (ARM's <c>timestamp</c>).</summary>
    public required DateTimeOffset Timestamp { get; init; }

    public required string TemplateHash { get; init; }

    /// <summary>Incremental, or Complete: the group's resources the template does not name are deleted after it deployed.</summary>
    public string Mode { get; init; } = DeploymentModes.Incremental;

    /// <summary><c>{name: {type, value}}</c>, secure parameters without <c>value</c>.</summary>
    public required string ParametersJson { get; init; }

    /// <summary><c>{name: {type, value}}</c> once succeeded.</summary>
    public string? OutputsJson { get; init; }

    public ArmErrorDetail? Error { get; init; }

    public required IReadOnlyList<DeploymentOperation> Operations { get; init; }

    public bool IsTerminal => ProvisioningState is DeploymentStates.Succeeded or DeploymentStates.Failed or DeploymentStates.Canceled;
}

/// <summary>One resource's deployment within a deployment (ARM's deployment operation).</summary>
public sealed record DeploymentOperation
{
    public required string OperationId { get; init; }

    public required string ResourceId { get; init; }

    public required string ResourceType { get; init; }

    public required string ResourceName { get; init; }

    /// <summary><c>Create</c> (a new resource) or <c>Update</c>… ARM reports <c>Create</c> for both in incremental mode.</summary>
    public string ProvisioningOperation { get; init; } = "Create";

    public required string ProvisioningState { get; init; }

    /// <summary><c>OK</c>, <c>Created</c>, or the failure's HTTP status name (<c>BadRequest</c>, <c>Conflict</c>).</summary>
    public string? StatusCode { get; init; }

    /// <summary>True when the resource was already as the template declares it: nothing was sent to its provider.</summary>
    public bool Unchanged { get; init; }

    public ArmErrorDetail? Error { get; init; }

    public required DateTimeOffset Timestamp { get; init; }

    public TimeSpan? Duration { get; init; }
}

/// <summary>ARM's deployment modes.</summary>
public static class DeploymentModes
{
    public const string Incremental = "Incremental";
    public const string Complete = "Complete";
}

/// <summary>ARM's deployment and operation states.</summary>
public static class DeploymentStates
{
    public const string Accepted = "Accepted";
    public const string Running = "Running";
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";
    public const string Canceled = "Canceled";
}

/// <summary>Deployments, one row each (its operations and outputs with it).</summary>
public interface IDeploymentStore
{
    Task<DeploymentRecord?> GetAsync(string subscriptionId, string resourceGroup, string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<DeploymentRecord>> ListAsync(string subscriptionId, string resourceGroup, CancellationToken cancellationToken);

    /// <summary>Deployments not yet terminal (found at start-up: the process that ran them is gone).</summary>
    Task<IReadOnlyList<DeploymentRecord>> ListActiveAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Starts a run: inserts the deployment or replaces an earlier run of the same name, in one transaction with the
    /// check that its resource group exists and is not being deleted (<see cref="Stores.WriteOutcome.ResourceGroupMissing"/>,
    /// <see cref="Stores.WriteOutcome.ResourceGroupDeleting"/> otherwise).
    /// </summary>
    Task<Stores.WriteOutcome> StartAsync(DeploymentRecord deployment, CancellationToken cancellationToken);

    /// <summary>Records the progress of a run; false (nothing written) when the deployment is gone, e.g. with its resource group.</summary>
    Task<bool> UpdateAsync(DeploymentRecord deployment, CancellationToken cancellationToken);
}
