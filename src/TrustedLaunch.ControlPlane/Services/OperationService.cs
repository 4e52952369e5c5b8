using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.ScaleSets;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Services;

/// <summary>
/// Operation monitors: <c>…/providers/Microsoft.Compute/locations/{loc}/operations/{id}</c> (VMs) and
/// <c>/subscriptions/{s}/operationresults/{id}</c> (resource group deletion). They outlive the resource they act on.
/// </summary>
public sealed class OperationService(IOperationStore operations, ResourceGroupService resourceGroups, VirtualMachineScaleSetService scaleSets)
{
    public async Task<ArmResult<OperationRecord>> GetAsync(string subscriptionId, string operationId, CancellationToken cancellationToken)
    {
        OperationRecord? operation = await operations.GetAsync(operationId, cancellationToken);
        if (operation is null || !operation.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase))
            return ArmErrors.OperationNotFound();
        if (operation is { Kind: OperationKind.DeleteResourceGroup, Status: OperationStatus.InProgress })
            operation = await resourceGroups.ContinueDeletionAsync(operation, cancellationToken);
        else if (operation.Status == OperationStatus.InProgress && ResourceIds.TryParseScaleSet(operation.ResourceId, out _))
            operation = await scaleSets.ContinueAsync(operation, cancellationToken);
        return ArmResult.Ok<OperationRecord>(operation);
    }
}
