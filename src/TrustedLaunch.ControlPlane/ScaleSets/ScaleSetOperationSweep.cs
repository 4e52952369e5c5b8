using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.ScaleSets;

/// <summary>
/// Moves every pending scale-set operation on, whether or not anyone polls it: instances made or removed by the host
/// complete the scale set's create, update or delete in the background, not only when its monitor URL is read.
/// </summary>
public sealed class ScaleSetOperationSweep(ISubscriptionStore subscriptions, IVirtualMachineScaleSetStore scaleSets, IOperationStore operations,
    VirtualMachineScaleSetService service)
{
    /// <summary>One pass over the pending operations of every subscription; answers how many are still in progress.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        int pending = 0;
        foreach (SubscriptionRecord subscription in await subscriptions.ListAsync(cancellationToken))
        {
            foreach (VirtualMachineScaleSetRecord scaleSet in await scaleSets.ListAsync(subscription.SubscriptionId, null, cancellationToken))
            {
                if (scaleSet.PendingOperationId is not string id || await operations.GetAsync(id, cancellationToken) is not { Status: OperationStatus.InProgress } operation)
                    continue;
                if ((await service.ContinueAsync(operation, cancellationToken)).Status == OperationStatus.InProgress)
                    pending++;
            }
        }

        return pending;
    }
}
