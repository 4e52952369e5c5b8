using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Disks;

/// <summary>
/// Microsoft.Compute/disks: GET, list, DELETE (an Unattached disk's host removes its files, then the resource is gone; an
/// attached one is refused as Azure does), and the host's side: which detached disks each host keeps, and its reports.
/// A disk is made and changed with its VM, in the VM's own write (<see cref="OsDisks"/>).
/// </summary>
public sealed class DiskService(
    IDiskStore disks,
    IVirtualMachineStore machines,
    IResourceGroupStore groups,
    IOperationStore operations,
    HostSignals signals,
    TimeProvider time)
{
    public const string Deleted = "Deleted";
    private const int Attempts = 5;

    public async Task<ArmResult<DiskRecord>> GetAsync(DiskKey key, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(key.ResourceGroup) is ArmFailure badGroup)
            return badGroup;
        if (await disks.GetAsync(key, cancellationToken) is DiskRecord found)
            return ArmResult.Ok<DiskRecord>((await WithHostsAsync([found], cancellationToken))[0]);
        return await groups.GetAsync(key.SubscriptionId, key.ResourceGroup, cancellationToken) is null
            ? ArmErrors.ResourceGroupNotFound(key.ResourceGroup)
            : ArmErrors.ResourceNotFound(ResourceIds.DiskType, key.Name, key.ResourceGroup);
    }

    public async Task<ArmResult<IReadOnlyList<DiskRecord>>> ListAsync(string subscriptionId, string? resourceGroup, CancellationToken cancellationToken)
    {
        if (resourceGroup is not null && await groups.GetAsync(subscriptionId, resourceGroup, cancellationToken) is null)
            return ArmErrors.ResourceGroupNotFound(resourceGroup);
        return ArmResult.Ok(await WithHostsAsync(await disks.ListAsync(subscriptionId, resourceGroup, cancellationToken), cancellationToken));
    }

    /// <summary>The disk a resource id names (<c>…/providers/Microsoft.Compute/disks/{name}</c>), or null.</summary>
    public async Task<DiskRecord?> FindAsync(string? resourceId, CancellationToken cancellationToken) =>
        ResourceIds.TryParseCompute(resourceId, "disks", out var id)
            ? await disks.GetAsync(new DiskKey(id.SubscriptionId, id.ResourceGroup, id.Name), cancellationToken)
            : null;

    /// <summary>
    /// DELETE: refused while attached (Azure's <c>OperationNotAllowed</c>); an Unattached disk's host removes its files, then the
    /// resource is gone (null: there was nothing to delete, 204).
    /// </summary>
    public async Task<ArmResult<OperationRecord?>> DeleteAsync(DiskKey key, string? ifMatch, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            DiskRecord? disk = await disks.GetAsync(key, cancellationToken);
            if (EntityTags.CheckPreconditions(ifMatch, null, disk?.Version) is ArmFailure precondition)
                return precondition;
            if (disk is null)
                return ArmResult.Ok<OperationRecord?>(null);
            if (disk.State == DiskState.Attached)
                return AttachedRefusal(disk);
            OperationRecord? pending = disk.PendingOperationId is string id ? await operations.GetAsync(id, cancellationToken) : null;
            if (disk.ProvisioningState == ProvisioningState.Deleting && pending is { Status: OperationStatus.InProgress })
                return ArmResult.Ok<OperationRecord?>(pending);
            DateTimeOffset now = time.GetUtcNow();
            OperationRecord operation = NewOperation(disk, OperationKind.Delete, disk.Version + 1, now);
            // A disk with no host has no files anywhere (its VM was never placed): it is gone at once.
            bool hasFiles = disk.HostName is not null;
            if (!hasFiles)
                operation = operation.Complete(OperationStatus.Succeeded, now);
            var write = new DiskWrite
            {
                Key = key,
                Record = hasFiles
                    ? disk with { ProvisioningState = ProvisioningState.Deleting, Version = disk.Version + 1, PendingOperationId = operation.OperationId }
                    : null,
                ExpectedVersion = disk.Version,
                Operations = pending is { Status: OperationStatus.InProgress }
                    ? [operation, pending.Complete(OperationStatus.Canceled, now, ArmErrors.OperationPreempted())]
                    : [operation],
            };
            if (await disks.WriteAsync(write, cancellationToken) == WriteOutcome.Written)
            {
                if (disk.HostName is string host)
                    signals.Notify(host);
                return ArmResult.Ok<OperationRecord?>(operation);
            }
        }

        return ArmErrors.AnotherOperationInProgress(ResourceIds.Disk(key.SubscriptionId, key.ResourceGroup, key.Name));
    }

    /// <summary>Azure's refusal to delete (or attach again) a disk that is attached to a VM.</summary>
    public static ArmFailure AttachedRefusal(DiskRecord disk, string? target = null)
    {
        ArgumentNullException.ThrowIfNull(disk);
        return ArmErrors.OperationNotAllowed($"Disk {disk.Name} is attached to VM {disk.ManagedBy}.", target);
    }

    /// <summary>Asks every Unattached disk of a resource group (being deleted) to be deleted; attached ones go with their VMs.</summary>
    public async Task DeleteAllAsync(string subscriptionId, string resourceGroup, CancellationToken cancellationToken)
    {
        foreach (DiskRecord disk in await disks.ListAsync(subscriptionId, resourceGroup, cancellationToken))
        {
            if (disk.State == DiskState.Unattached && disk.ProvisioningState != ProvisioningState.Deleting)
                _ = await DeleteAsync(disk.Key, ifMatch: null, cancellationToken);
        }
    }

    /// <summary>What <paramref name="hostName"/> keeps: its Unattached disks, present, or to be removed when Deleting.</summary>
    public async Task<IReadOnlyList<DiskAssignment>> AssignmentsAsync(string hostName, CancellationToken cancellationToken) =>
        [.. (await disks.ListByHostAsync(hostName, cancellationToken))
            .OrderBy(d => d.DiskId)
            .Select(d => new DiskAssignment
            {
                DiskId = d.DiskId,
                ResourceId = d.ResourceId,
                Name = d.Name,
                DesiredState = d.ProvisioningState == ProvisioningState.Deleting ? Deleted : "Present",
            })];

    /// <summary>Applies a host's disk report; false for a report about a disk the host does not hold (ignored).</summary>
    public async Task<bool> ApplyReportAsync(string hostName, DiskReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            DiskRecord? disk = await disks.GetByIdAsync(report.DiskId, cancellationToken);
            if (disk is null || disk.State != DiskState.Unattached || !string.Equals(disk.HostName, hostName, StringComparison.OrdinalIgnoreCase))
                return false;
            if (report.State != Deleted || disk.ProvisioningState != ProvisioningState.Deleting)
                return true; // a repeated report, or one about a state the disk has left: nothing to change
            OperationRecord? pending = disk.PendingOperationId is string id && await operations.GetAsync(id, cancellationToken) is { Status: OperationStatus.InProgress } p
                ? p
                : null;
            var write = new DiskWrite
            {
                Key = disk.Key, Record = null, ExpectedVersion = disk.Version,
                Operations = pending is null ? [] : [pending.Complete(OperationStatus.Succeeded, time.GetUtcNow())],
            };
            if (await disks.WriteAsync(write, cancellationToken) == WriteOutcome.Written)
                return true;
        }

        return false;
    }

    // An attached disk lives on its VM's host: filled in from the VMs for the answer (one read for the lot).
    private async Task<IReadOnlyList<DiskRecord>> WithHostsAsync(IReadOnlyList<DiskRecord> found, CancellationToken cancellationToken)
    {
        Guid[] owners = [.. found.Where(d => d.State == DiskState.Attached && d.ManagedByVmId is not null).Select(d => d.ManagedByVmId!.Value)];
        if (owners.Length == 0)
            return found;
        Dictionary<Guid, string?> hostOf = (await machines.GetByVmIdsAsync(owners, cancellationToken)).ToDictionary(v => v.VmId, v => v.HostName);
        return [.. found.Select(d => d.State == DiskState.Attached && d.ManagedByVmId is Guid vm ? d with { HostName = hostOf.GetValueOrDefault(vm) } : d)];
    }

    private static OperationRecord NewOperation(DiskRecord disk, OperationKind kind, long targetVersion, DateTimeOffset now) =>
        OperationRecord.Start(disk.SubscriptionId, disk.Location, disk.ResourceId, kind, targetVersion, now);
}
