using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Snapshots;

/// <summary><c>POST …/virtualMachines/{vm}/restoreFromSnapshot</c> (ours): <c>{"snapshotId": "…/providers/Microsoft.Compute/snapshots/{name}"}</c>.</summary>
public sealed record RestoreFromSnapshotRequest
{
    public string? SnapshotId { get; init; }
}

/// <summary>
/// Restore into the same VM: a stopped or deallocated VM's OS disk and VMGS roll back together to a snapshot of it, on its host
/// (<c>VmSnapshots.Restore</c>), keeping its identity (the same EK and AK). Once the host reports it done, the restore is recorded as a
/// <b>sanctioned restore</b> down to the quote clock the snapshot kept, so the restored vTPM attests while an unsanctioned rollback is still refused.
/// </summary>
public sealed class SnapshotRestoreService(
    IVirtualMachineStore machines,
    IOperationStore operations,
    ISnapshotStore snapshots,
    HostSignals signals,
    IQuoteClockFloors floors,
    TimeProvider time)
{
    private const string Target = "snapshotId";

    public async Task<ArmResult<OperationRecord>> RestoreAsync(VirtualMachineKey key, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        ArmResult<RestoreFromSnapshotRequest> parsed = ControlPlaneJson.Read(body.Span, ControlPlaneJson.Default.RestoreFromSnapshotRequest);
        if (parsed.Failure is ArmFailure malformed)
            return malformed;
        if (!ResourceIds.TryParseCompute(parsed.Value!.SnapshotId, "snapshots", out var name))
            return ArmErrors.InvalidParameter("snapshotId must be the id of a snapshot: /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/snapshots/{name}.", Target);
        VirtualMachineRecord? vm = await machines.GetAsync(key, cancellationToken);
        if (vm is null)
            return ArmErrors.ResourceNotFound(ResourceIds.VirtualMachineType, key.Name, key.ResourceGroup);
        SnapshotRecord? snapshot = await snapshots.GetAsync(new SnapshotKey(name.SubscriptionId, name.ResourceGroup, name.Name), cancellationToken);
        if (snapshot is null || !snapshot.SubscriptionId.Equals(key.SubscriptionId, StringComparison.OrdinalIgnoreCase))
            return ArmErrors.ResourceNotFound(ResourceIds.SnapshotType, name.Name, name.ResourceGroup);
        if (Refusal(vm, snapshot) is ArmFailure refused)
            return refused;
        OperationRecord? pending = vm.PendingOperationId is string id && await operations.GetAsync(id, cancellationToken) is { Status: OperationStatus.InProgress } p
            ? p
            : null;
        if (pending is not null)
            return ArmErrors.AnotherOperationInProgress(VirtualMachineViews.OperationUrl(pending, ApiVersions.Compute[0]));

        DateTimeOffset now = time.GetUtcNow();
        long version = vm.Version + 1;
        OperationRecord operation = VirtualMachineService.NewOperation(key, vm.Location, OperationKind.Update, version, now);
        VirtualMachineRecord next = vm with
        {
            Version = version,
            Model = vm.Model with
            {
                Restore = new SnapshotRestore(snapshot.SnapshotId, version)
                {
                    QuoteClockFloor = snapshot.QuoteClockFloor, Source = $"snapshot {snapshot.ResourceId} ({snapshot.SnapshotId})",
                },
            },
            ProvisioningState = ProvisioningState.Updating,
            PendingOperationId = operation.OperationId,
        };
        if (await machines.WriteAsync(new VirtualMachineWrite { Key = key, Record = next, ExpectedSequence = vm.ChangeSequence, Operations = [operation] },
                cancellationToken) != WriteOutcome.Written)
            return ArmErrors.AnotherOperationInProgress(vm.ResourceId);
        // The sanctioned restore is recorded when the host reports the restore done (RecordRestoredAsync), not here: a restore the
        // host refuses (a changed byte, …) rolled nothing back, and the VM's quote clock must stay where it is.
        signals.Notify(vm.HostName!);
        return ArmResult.Ok(operation);
    }

    /// <summary>
    /// The host reported restore <paramref name="restoredVersion"/> done (disk and VMGS rolled back): records the sanctioned restore
    /// down to the snapshot's floor, once, before the report completes the operation (so before the VM can start and attest again).
    /// Answers the VM record to write (marked recorded), or <paramref name="vm"/> when there is nothing to record.
    /// </summary>
    public async Task<VirtualMachineRecord> RecordRestoredAsync(VirtualMachineRecord vm, long? restoredVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vm);
        if (restoredVersion is not long done || vm.Model.Restore is not { Recorded: false } restore || restore.Version != done)
            return vm;
        await floors.SanctionAsync(vm.VmId, restore.Source ?? $"snapshot {restore.SnapshotId}", restore.QuoteClockFloor, cancellationToken);
        return vm with { Model = vm.Model with { Restore = restore with { Recorded = true } } };
    }

    private static ArmFailure? Refusal(VirtualMachineRecord vm, SnapshotRecord snapshot)
    {
        if (LibvirtDomainService.Refusal(vm, "restoreFromSnapshot") is ArmFailure external)
            return external;
        if (snapshot.ProvisioningState != ProvisioningState.Succeeded)
            return ArmErrors.OperationNotAllowed($"The snapshot '{snapshot.Name}' is {snapshot.ProvisioningState}: only a Succeeded snapshot can be restored.", Target);
        if (snapshot.SourceVmId != vm.VmId)
        {
            return ArmErrors.Fail(ArmErrors.Conflict, "SnapshotOfAnotherVirtualMachine",
                $"Snapshot '{snapshot.Name}' is of virtual machine {snapshot.SourceVmId}, not {vm.VmId}: a snapshot is restored into its own VM only; " +
                "create a new VM from it instead (osDisk createOption Attach: it gets its own vTPM).", Target);
        }

        if (vm.ProvisioningState is ProvisioningState.Creating or ProvisioningState.Deleting || vm.HostName is null)
            return ArmErrors.OperationNotAllowed($"Operation 'restoreFromSnapshot' is not allowed on virtual machine {vm.Name}: it is {vm.ProvisioningState}.");
        if (!string.Equals(vm.HostName, snapshot.HostName, StringComparison.OrdinalIgnoreCase))
            return ArmErrors.OperationNotAllowed($"Snapshot '{snapshot.Name}' is on host {snapshot.HostName}, virtual machine {vm.Name} on host {vm.HostName}.", Target);
        if (vm.DesiredPower == DesiredPowerState.Running || vm.ActualPower is not (PowerState.Stopped or PowerState.Deallocated))
        {
            return ArmErrors.OperationNotAllowed(
                $"Operation 'restoreFromSnapshot' is not allowed on virtual machine {vm.Name} since the VM is running. Stop or deallocate it first.");
        }

        return null;
    }
}
