using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.ControlPlane.ScaleSets;

/// <summary>Identifies a scale set: subscription, resource group and name, compared case-insensitively.</summary>
public readonly record struct ScaleSetKey(string SubscriptionId, string ResourceGroup, string Name)
{
    public string ResourceGroupKey => ResourceIds.Key(ResourceGroup);

    public string NameKey => ResourceIds.Key(Name);

    public string ResourceId => ResourceIds.VirtualMachineScaleSet(SubscriptionId, ResourceGroup, Name);
}

/// <summary>A flexible scale set: its accepted model (the request with defaults applied, read-only members removed) and its state.</summary>
public sealed record VirtualMachineScaleSetRecord
{
    public required string SubscriptionId { get; init; }

    public required string ResourceGroup { get; init; }

    public required string Name { get; init; }

    public required Guid UniqueId { get; init; }

    public required string Location { get; init; }

    /// <summary>The ETag's number: 1 at creation, +1 at every change its owner makes.</summary>
    public required long Version { get; init; }

    /// <summary>tags, sku (size and capacity) and properties (orchestration mode, fault domains, the VM model), as accepted.</summary>
    public required VirtualMachineScaleSetResource Model { get; init; }

    public required ProvisioningState ProvisioningState { get; init; }

    /// <summary>The operation converging the scale set to its capacity (or deleting it), while one runs.</summary>
    public string? PendingOperationId { get; init; }

    public required DateTimeOffset TimeCreated { get; init; }

    public long Capacity => Model.Sku?.Capacity ?? 0;

    public ScaleSetKey Key => new(SubscriptionId, ResourceGroup, Name);

    public string ResourceId => Key.ResourceId;
}
