using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.ScaleSets;

/// <summary>
/// Scale sets, each one row compare-and-swapped on its version. Instances are VM rows (<see cref="IVirtualMachineStore"/>)
/// that name their scale set in <c>properties.virtualMachineScaleSet.id</c>; the scale set row holds only its model.
/// </summary>
public interface IVirtualMachineScaleSetStore
{
    Task<VirtualMachineScaleSetRecord?> GetAsync(ScaleSetKey key, CancellationToken cancellationToken);

    /// <summary>The scale sets of a subscription, or of one of its resource groups, ordered by resource group then name.</summary>
    Task<IReadOnlyList<VirtualMachineScaleSetRecord>> ListAsync(string subscriptionId, string? resourceGroup, CancellationToken cancellationToken);

    /// <summary>
    /// Inserts (<paramref name="expectedVersion"/> null: it must not exist, its resource group must, not being deleted) or
    /// replaces the row at that version; <paramref name="operations"/> are upserted in the same transaction.
    /// </summary>
    Task<WriteOutcome> SaveAsync(VirtualMachineScaleSetRecord scaleSet, long? expectedVersion, IReadOnlyList<OperationRecord> operations,
        CancellationToken cancellationToken);

    /// <summary>Removes the row when it is at <paramref name="expectedVersion"/>, upserting <paramref name="operation"/> with it.</summary>
    Task<WriteOutcome> RemoveAsync(ScaleSetKey key, long expectedVersion, OperationRecord? operation, CancellationToken cancellationToken);
}
