using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Services;

/// <summary>The power actions of a VM (POST …/start, …/powerOff, …/deallocate, …/restart).</summary>
public enum VmAction
{
    Start,
    PowerOff,
    Deallocate,
    Restart,
}

/// <summary>
/// DELETE and the power actions. Each records the desired state and an operation in one write; the VM's host
/// converges it and reports (phase 2: <c>tl host</c>). What needs no host completes at once: deleting a VM that was
/// never placed, stopping or deallocating one that is not running anywhere. A newer action preempts a running one
/// (Canceled, <c>OperationPreempted</c>), except a create or a delete.
/// </summary>
public sealed class VirtualMachineLifecycle(
    IVirtualMachineStore machines,
    IOperationStore operations,
    Placement placement,
    HostSignals signals,
    IAttestationEnrollment enrollment,
    Network.VmNicRelease nics,
    Disks.IDiskStore disks,
    IResourceGroupStore groups,
    TimeProvider time)
{
    private const int Attempts = 5;

    /// <summary>Null when the VM does not exist (DELETE answers 204); else the delete operation (202).</summary>
    public async Task<ArmResult<OperationRecord?>> DeleteAsync(VirtualMachineKey key, string? ifMatch, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            VirtualMachineRecord? vm = await machines.GetAsync(key, cancellationToken);
            if (vm is null)
                return ArmResult.Ok<OperationRecord?>(null);
            if (EntityTags.CheckPreconditions(ifMatch, null, vm.Version) is ArmFailure precondition)
                return precondition;
            if (LibvirtDomainService.External(vm) is not null)
            {
                // Another manager runs it: the resource goes, the domain and its files stay untouched.
                DateTimeOffset at = time.GetUtcNow();
                OperationRecord removed = VirtualMachineService.NewOperation(key, vm.Location, OperationKind.Delete, vm.Version + 1, at).Complete(OperationStatus.Succeeded, at);
                if (await machines.WriteAsync(new VirtualMachineWrite { Key = key, Record = null, ExpectedSequence = vm.ChangeSequence, Operations = [removed] },
                        cancellationToken) != WriteOutcome.Written)
                    continue;
                await enrollment.WithdrawAsync(vm.VmId, cancellationToken);
                return ArmResult.Ok<OperationRecord?>(removed);
            }

            OperationRecord? pending = await PendingAsync(vm, cancellationToken);
            if (vm.ProvisioningState == ProvisioningState.Deleting && pending is { Kind: OperationKind.Delete })
                return ArmResult.Ok<OperationRecord?>(pending);

            DateTimeOffset now = time.GetUtcNow();
            long version = vm.Version + 1;
            OperationRecord operation = VirtualMachineService.NewOperation(key, vm.Location, OperationKind.Delete, version, now);
            List<OperationRecord> writes = Preempt(pending, now);
            VirtualMachineWrite write;
            if (vm.HostName is null)
            {
                // Never placed: nothing runs and no file exists anywhere, so the VM is gone now.
                operation = operation.Complete(OperationStatus.Succeeded, now);
                write = new VirtualMachineWrite
                {
                    Key = key, Record = null, ExpectedSequence = vm.ChangeSequence, Operations = [.. writes, operation],
                    OsDisk = Disks.OsDisks.OnRemoval(vm, await disks.GetByManagerAsync(vm.VmId, cancellationToken)),
                };
            }
            else
            {
                // Whether its OS disk is kept is fixed now, with the Deleting state: its host is told that, and its removal reads it.
                bool withGroup = await groups.GetAsync(vm.SubscriptionId, vm.ResourceGroup, cancellationToken) is { State: ResourceGroupState.Deleting };
                VirtualMachineRecord deleting = vm with
                {
                    Version = version, ProvisioningState = ProvisioningState.Deleting, PendingOperationId = operation.OperationId,
                    Model = withGroup ? Disks.OsDisks.DeletedWithGroup(vm.Model) : vm.Model,
                };
                write = new VirtualMachineWrite { Key = key, Record = deleting, ExpectedSequence = vm.ChangeSequence, Operations = [.. writes, operation] };
            }

            if (await machines.WriteAsync(write, cancellationToken) == WriteOutcome.Written)
            {
                if (vm.HostName is not null)
                    signals.Notify(vm.HostName);
                else
                {
                    await enrollment.WithdrawAsync(vm.VmId, cancellationToken);
                    await nics.ReleaseAsync(vm, cancellationToken);
                }

                return ArmResult.Ok<OperationRecord?>(operation);
            }
        }

        return ArmErrors.AnotherOperationInProgress(ResourceIds.VirtualMachine(key.SubscriptionId, key.ResourceGroup, key.Name));
    }

    public async Task<ArmResult<OperationRecord>> ActAsync(VirtualMachineKey key, VmAction action, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            VirtualMachineRecord? vm = await machines.GetAsync(key, cancellationToken);
            if (vm is null)
                return ArmErrors.ResourceNotFound(ResourceIds.VirtualMachineType, key.Name, key.ResourceGroup);
            if (LibvirtDomainService.Refusal(vm, Verb(action)) is ArmFailure external)
                return external;
            OperationRecord? pending = await PendingAsync(vm, cancellationToken);
            if (pending is { Kind: OperationKind.Create or OperationKind.Delete } || vm.ProvisioningState is ProvisioningState.Creating or ProvisioningState.Deleting)
                return ArmErrors.AnotherOperationInProgress(pending is null ? vm.ResourceId : VirtualMachineViews.OperationUrl(pending, ApiVersions.Compute[0]));
            if (action == VmAction.Restart && vm.DesiredPower != DesiredPowerState.Running)
                return ArmErrors.OperationNotAllowed(
                    $"Operation 'restart' is not allowed on VM '{vm.Name}' since the VM is {(vm.DesiredPower == DesiredPowerState.Stopped ? "stopped" : "deallocated")}.");

            DateTimeOffset now = time.GetUtcNow();
            long version = vm.Version + 1;
            DesiredPowerState desired = action switch
            {
                VmAction.PowerOff => DesiredPowerState.Stopped,
                VmAction.Deallocate => DesiredPowerState.Deallocated,
                _ => DesiredPowerState.Running,
            };
            OperationRecord operation = VirtualMachineService.NewOperation(key, vm.Location, Kind(action), version, now);
            // Nothing to do on a host when the VM is on none (or already is in the wanted state and no restart is asked).
            bool converged = vm.HostName is null
                ? desired != DesiredPowerState.Running
                : action != VmAction.Restart && vm.ActualPower == Reported(desired) && vm.DesiredPower == desired;
            if (converged)
                operation = operation.Complete(OperationStatus.Succeeded, now);
            VirtualMachineRecord next = vm with
            {
                Version = version,
                DesiredPower = desired,
                RestartGeneration = vm.RestartGeneration + (action == VmAction.Restart ? 1 : 0),
                PendingOperationId = converged ? null : operation.OperationId,
                ProvisioningState = vm.ProvisioningState == ProvisioningState.Failed ? ProvisioningState.Updating : vm.ProvisioningState,
            };
            var write = new VirtualMachineWrite
            {
                Key = key, Record = next, ExpectedSequence = vm.ChangeSequence, Operations = [.. Preempt(pending, now), operation],
            };
            // Starting a deallocated VM needs room on its host again.
            PlacedWrite written = action == VmAction.Start && vm.DesiredPower == DesiredPowerState.Deallocated
                ? await placement.WriteAsync(write, cancellationToken)
                : new PlacedWrite(PlacementOutcome.Written, await machines.WriteAsync(write, cancellationToken), next);
            if (written.Outcome == PlacementOutcome.NoCapacity)
                return new ArmFailure(ArmErrors.Conflict, ArmErrors.AllocationFailed());
            if (written.Store == WriteOutcome.Written)
            {
                if (vm.HostName is not null)
                    signals.Notify(vm.HostName);
                return ArmResult.Ok<OperationRecord>(operation);
            }
        }

        return ArmErrors.AnotherOperationInProgress(ResourceIds.VirtualMachine(key.SubscriptionId, key.ResourceGroup, key.Name));
    }

    /// <summary>
    /// Asks the VM's host to attest it now (<c>POST …/attest</c>): raises its attestation generation, which the host sees on
    /// its next poll. Not an operation and not a change of the VM (its ETag stays): the result lands in the attestation store.
    /// </summary>
    public async Task<ArmResult<VirtualMachineRecord>> RequestAttestationAsync(VirtualMachineKey key, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            VirtualMachineRecord? vm = await machines.GetAsync(key, cancellationToken);
            if (vm is null)
                return ArmErrors.ResourceNotFound(ResourceIds.VirtualMachineType, key.Name, key.ResourceGroup);
            if (!HasVTpm(vm))
                return ArmErrors.OperationNotAllowed($"VM '{vm.Name}' has no vTPM: only a Trusted Launch VM with vTpmEnabled is attested.");
            if (vm.DesiredPower != DesiredPowerState.Running || vm.HostName is null || vm.ProvisioningState == ProvisioningState.Deleting)
                return ArmErrors.OperationNotAllowed($"VM '{vm.Name}' is not running; only a running VM can be attested.");
            VirtualMachineRecord next = vm with { AttestationGeneration = vm.AttestationGeneration + 1 };
            if (await machines.WriteAsync(new VirtualMachineWrite { Key = key, Record = next, ExpectedSequence = vm.ChangeSequence }, cancellationToken)
                == WriteOutcome.Written)
            {
                signals.Notify(vm.HostName);
                return ArmResult.Ok<VirtualMachineRecord>(next);
            }
        }

        return ArmErrors.AnotherOperationInProgress(ResourceIds.VirtualMachine(key.SubscriptionId, key.ResourceGroup, key.Name));
    }

    private static string Verb(VmAction action) => action switch
    {
        VmAction.Start => "start",
        VmAction.PowerOff => "powerOff",
        VmAction.Deallocate => "deallocate",
        _ => "restart",
    };

    /// <summary>A Trusted Launch VM with its vTPM on: the VMs the platform attests.</summary>
    public static bool HasVTpm(VirtualMachineRecord vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        SecurityProfile? security = vm.Model.Properties.SecurityProfile;
        return security?.SecurityType == VmPlanner.TrustedLaunch && security.UefiSettings?.VTpmEnabled == true;
    }

    /// <summary>The power state a host reports once it has converged a VM to <paramref name="desired"/>.</summary>
    public static PowerState Reported(DesiredPowerState desired) => desired switch
    {
        DesiredPowerState.Running => PowerState.Running,
        DesiredPowerState.Stopped => PowerState.Stopped,
        _ => PowerState.Deallocated,
    };

    private static OperationKind Kind(VmAction action) => action switch
    {
        VmAction.Start => OperationKind.Start,
        VmAction.PowerOff => OperationKind.PowerOff,
        VmAction.Deallocate => OperationKind.Deallocate,
        _ => OperationKind.Restart,
    };

    private async Task<OperationRecord?> PendingAsync(VirtualMachineRecord vm, CancellationToken cancellationToken) =>
        vm.PendingOperationId is string id && await operations.GetAsync(id, cancellationToken) is { Status: OperationStatus.InProgress } pending
            ? pending
            : null;

    private static List<OperationRecord> Preempt(OperationRecord? pending, DateTimeOffset now) =>
        pending is null ? [] : [pending.Complete(OperationStatus.Canceled, now, ArmErrors.OperationPreempted())];
}
