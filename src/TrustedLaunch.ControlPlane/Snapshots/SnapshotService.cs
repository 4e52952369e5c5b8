using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Snapshots;

/// <summary>The answer to a snapshot PUT: the snapshot, whether it was created, and the operation taking it (if any).</summary>
public sealed record SnapshotWriteResult(SnapshotRecord Snapshot, bool Created, OperationRecord? Operation);

/// <summary>
/// Microsoft.Compute/snapshots: PUT (a crash-consistent copy of a VM's OS disk and VMGS, taken by the VM's host; a running VM is paused for it),
/// GET, list, DELETE (the host removes the files), and the host's side: which snapshots each host keeps, and its reports.
/// </summary>
public sealed class SnapshotService(
    ISnapshotStore snapshots,
    IVirtualMachineStore machines,
    IResourceGroupStore groups,
    IOperationStore operations,
    HostSignals signals,
    IQuoteClockFloors floors,
    ControlPlaneOptions options,
    TimeProvider time)
{
    public const string Copy = "Copy";
    private const int Attempts = 5;

    public async Task<ArmResult<SnapshotWriteResult>> PutAsync(SnapshotKey key, ReadOnlyMemory<byte> body, string? ifMatch, string? ifNoneMatch,
        CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(key.ResourceGroup) is ArmFailure badGroup)
            return badGroup;
        if (ArmNames.CheckSnapshot(key.Name) is ArmFailure badName)
            return badName;
        ArmResult<SnapshotResource> parsed = ControlPlaneJson.Read(body.Span, ControlPlaneJson.Default.SnapshotResource);
        if (parsed.Failure is ArmFailure malformed)
            return malformed;
        SnapshotResource sent = parsed.Value!;
        ResourceGroupRecord? group = await groups.GetAsync(key.SubscriptionId, key.ResourceGroup, cancellationToken);
        if (group is null)
            return ArmErrors.ResourceGroupNotFound(key.ResourceGroup);
        if (group.State == ResourceGroupState.Deleting)
            return ArmErrors.ResourceGroupBeingDeleted(group.Name);
        SnapshotRecord? previous = await snapshots.GetAsync(key, cancellationToken);
        if (EntityTags.CheckPreconditions(ifMatch, ifNoneMatch, previous?.Version) is ArmFailure precondition)
            return precondition;
        if (SnapshotRequestChecks.Check(sent) is { Count: > 0 } errors)
            return ArmFailure.FromViolations(ArmErrors.BadRequest, errors);
        string location = ResourceIds.NormalizeLocation(sent.Location!);
        if (!options.IsLocationAllowed(location))
            return ArmErrors.LocationNotAvailable(location, ResourceIds.SnapshotType, options.KnownLocations(location));
        return previous is null
            ? await CreateAsync(key, sent, location, cancellationToken)
            : await UpdateAsync(previous, sent, location, cancellationToken);
    }

    public async Task<ArmResult<SnapshotRecord>> GetAsync(SnapshotKey key, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(key.ResourceGroup) is ArmFailure badGroup)
            return badGroup;
        if (await snapshots.GetAsync(key, cancellationToken) is SnapshotRecord found)
            return ArmResult.Ok<SnapshotRecord>(found);
        return await groups.GetAsync(key.SubscriptionId, key.ResourceGroup, cancellationToken) is null
            ? ArmErrors.ResourceGroupNotFound(key.ResourceGroup)
            : ArmErrors.ResourceNotFound(ResourceIds.SnapshotType, key.Name, key.ResourceGroup);
    }

    public async Task<ArmResult<IReadOnlyList<SnapshotRecord>>> ListAsync(string subscriptionId, string? resourceGroup, CancellationToken cancellationToken)
    {
        if (resourceGroup is not null && await groups.GetAsync(subscriptionId, resourceGroup, cancellationToken) is null)
            return ArmErrors.ResourceGroupNotFound(resourceGroup);
        return ArmResult.Ok(await snapshots.ListAsync(subscriptionId, resourceGroup, cancellationToken));
    }

    /// <summary>DELETE: the host removes the pair, then the resource is gone (null: there was nothing to delete, 204).</summary>
    public async Task<ArmResult<OperationRecord?>> DeleteAsync(SnapshotKey key, string? ifMatch, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            SnapshotRecord? snapshot = await snapshots.GetAsync(key, cancellationToken);
            if (EntityTags.CheckPreconditions(ifMatch, null, snapshot?.Version) is ArmFailure precondition)
                return precondition;
            if (snapshot is null)
                return ArmResult.Ok<OperationRecord?>(null);
            OperationRecord? pending = snapshot.PendingOperationId is string id ? await operations.GetAsync(id, cancellationToken) : null;
            if (snapshot.ProvisioningState == ProvisioningState.Deleting && pending is { Status: OperationStatus.InProgress })
                return ArmResult.Ok<OperationRecord?>(pending);
            DateTimeOffset now = time.GetUtcNow();
            OperationRecord operation = NewOperation(snapshot, OperationKind.Delete, snapshot.Version + 1, now);
            var write = new SnapshotWrite
            {
                Key = key,
                Record = snapshot with { ProvisioningState = ProvisioningState.Deleting, Version = snapshot.Version + 1, PendingOperationId = operation.OperationId },
                ExpectedVersion = snapshot.Version,
                Operations = pending is { Status: OperationStatus.InProgress }
                    ? [operation, pending.Complete(OperationStatus.Canceled, now, ArmErrors.OperationPreempted())]
                    : [operation],
            };
            if (await snapshots.WriteAsync(write, cancellationToken) == WriteOutcome.Written)
            {
                signals.Notify(snapshot.HostName);
                return ArmResult.Ok<OperationRecord?>(operation);
            }
        }

        return ArmErrors.AnotherOperationInProgress(ResourceIds.Snapshot(key.SubscriptionId, key.ResourceGroup, key.Name));
    }

    /// <summary>Asks every snapshot of a resource group (being deleted) to be deleted.</summary>
    public async Task DeleteAllAsync(string subscriptionId, string resourceGroup, CancellationToken cancellationToken)
    {
        foreach (SnapshotRecord snapshot in await snapshots.ListAsync(subscriptionId, resourceGroup, cancellationToken))
        {
            if (snapshot.ProvisioningState != ProvisioningState.Deleting)
                _ = await DeleteAsync(snapshot.Key, ifMatch: null, cancellationToken);
        }
    }

    /// <summary>The snapshot a resource id names (<c>…/providers/Microsoft.Compute/snapshots/{name}</c>), or null.</summary>
    public async Task<SnapshotRecord?> FindAsync(string? resourceId, CancellationToken cancellationToken) =>
        ResourceIds.TryParseCompute(resourceId, "snapshots", out var id)
            ? await snapshots.GetAsync(new SnapshotKey(id.SubscriptionId, id.ResourceGroup, id.Name), cancellationToken)
            : null;

    /// <summary>What <paramref name="hostName"/> keeps: Creating and Succeeded snapshots present, Deleting ones removed (Failed ones have no files).</summary>
    public async Task<IReadOnlyList<SnapshotAssignment>> AssignmentsAsync(string hostName, CancellationToken cancellationToken) =>
        [.. (await snapshots.ListByHostAsync(hostName, cancellationToken))
            .Where(s => s.ProvisioningState != ProvisioningState.Failed)
            .OrderBy(s => s.SnapshotId)
            .Select(s => new SnapshotAssignment
            {
                SnapshotId = s.SnapshotId,
                ResourceId = s.ResourceId,
                SourceVmId = s.SourceVmId,
                DesiredState = s.ProvisioningState == ProvisioningState.Deleting ? "Deleted" : "Present",
            })];

    /// <summary>Applies a host's snapshot reports; false for a report about a snapshot the host does not hold (ignored).</summary>
    public async Task<bool> ApplyReportAsync(string hostName, SnapshotReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            SnapshotRecord? snapshot = await snapshots.GetByIdAsync(report.SnapshotId, cancellationToken);
            if (snapshot is null || !string.Equals(snapshot.HostName, hostName, StringComparison.OrdinalIgnoreCase))
                return false;
            DateTimeOffset now = time.GetUtcNow();
            OperationRecord? pending = snapshot.PendingOperationId is string id && await operations.GetAsync(id, cancellationToken) is { Status: OperationStatus.InProgress } p
                ? p
                : null;
            SnapshotWrite? write = (report.State, snapshot.ProvisioningState) switch
            {
                ("Deleted", ProvisioningState.Deleting) => new SnapshotWrite
                {
                    Key = snapshot.Key, Record = null, ExpectedVersion = snapshot.Version,
                    Operations = pending is null ? [] : [pending.Complete(OperationStatus.Succeeded, now)],
                },
                ("Succeeded", ProvisioningState.Creating) => new SnapshotWrite
                {
                    Key = snapshot.Key, ExpectedVersion = snapshot.Version,
                    Record = snapshot with
                    {
                        ProvisioningState = ProvisioningState.Succeeded, Version = snapshot.Version + 1, PendingOperationId = null,
                        DiskSizeBytes = report.DiskSizeBytes, VmgsSha256 = report.VmgsSha256, GuestStateIncluded = report.VmgsSha256 is not null,
                    },
                    Operations = pending is null ? [] : [pending.Complete(OperationStatus.Succeeded, now)],
                },
                ("Failed", ProvisioningState.Creating) => new SnapshotWrite
                {
                    Key = snapshot.Key, ExpectedVersion = snapshot.Version,
                    Record = snapshot with
                    {
                        ProvisioningState = ProvisioningState.Failed, Version = snapshot.Version + 1, PendingOperationId = null, Error = report.Error,
                    },
                    Operations = pending is null ? [] : [pending.Complete(OperationStatus.Failed, now, report.Error ?? Failure("The host could not take the snapshot."))],
                },
                _ => null, // a repeated report, or one about a state the snapshot has left: nothing to change
            };
            if (write is null || await snapshots.WriteAsync(write, cancellationToken) == WriteOutcome.Written)
                return true;
        }

        return false;
    }

    private async Task<ArmResult<SnapshotWriteResult>> CreateAsync(SnapshotKey key, SnapshotResource sent, string location, CancellationToken cancellationToken)
    {
        CreationData creation = sent.Properties!.CreationData!;
        ArmResult<VirtualMachineRecord> source = await SourceAsync(key.SubscriptionId, creation.SourceResourceId!, cancellationToken);
        if (source.Failure is ArmFailure notFound)
            return notFound;
        VirtualMachineRecord vm = source.Value!;
        if (LibvirtDomainService.Refusal(vm, "snapshot") is ArmFailure external)
            return external;
        string securityType = vm.Model.Properties.SecurityProfile?.SecurityType ?? VmPlanner.Standard;
        if (VmPlanner.Canonical(sent.Properties.SecurityProfile?.SecurityType) is string asked && asked != securityType
            && !(asked == VmPlanner.Standard && securityType == VmPlanner.Standard))
        {
            return ArmErrors.Fail(ArmErrors.BadRequest, "InvalidParameter",
                "Security type of VM is not compatible with the security type of attached OS Disk.", "properties.securityProfile.securityType");
        }

        if (vm.HostName is null || vm.ProvisioningState is ProvisioningState.Creating or ProvisioningState.Deleting)
            return ArmErrors.OperationNotAllowed($"Operation 'snapshot' is not allowed on virtual machine {vm.Name}: it is {vm.ProvisioningState} and has no OS disk to copy yet.",
                "properties.creationData.sourceResourceId");

        DateTimeOffset now = time.GetUtcNow();
        var record = new SnapshotRecord
        {
            SubscriptionId = key.SubscriptionId,
            ResourceGroup = key.ResourceGroup,
            Name = key.Name,
            SnapshotId = Guid.NewGuid(),
            Location = location,
            Tags = sent.Tags,
            SkuName = sent.Sku?.Name ?? "Standard_LRS",
            Version = 1,
            ProvisioningState = ProvisioningState.Creating,
            TimeCreated = now,
            SourceResourceId = creation.SourceResourceId!,
            SourceVirtualMachineId = vm.ResourceId,
            SourceVmId = vm.VmId,
            HostName = vm.HostName,
            SecurityType = securityType,
            Generation = vm.Generation,
            ImageReference = vm.Model.Properties.StorageProfile!.ImageReference!,
            VmSize = vm.Model.Properties.HardwareProfile!.VmSize!,
            DiskSizeGB = vm.Model.Properties.StorageProfile.OsDisk?.DiskSizeGB,
            // Clocks only go up: the newest quote accepted now is at or below the vTPM state the host copies (a running VM's a
            // little later), so a restore sanctioned down to it lets the restored vTPM attest.
            QuoteClockFloor = await floors.CaptureAsync(vm.VmId, cancellationToken),
        };
        OperationRecord operation = NewOperation(record, OperationKind.Create, 1, now);
        record = record with { PendingOperationId = operation.OperationId };
        WriteOutcome outcome = await snapshots.WriteAsync(new SnapshotWrite { Key = key, Record = record, Operations = [operation] }, cancellationToken);
        switch (outcome)
        {
            case WriteOutcome.Written:
                signals.Notify(record.HostName);
                return ArmResult.Ok(new SnapshotWriteResult(record, true, operation));
            case WriteOutcome.ResourceGroupMissing:
                return ArmErrors.ResourceGroupNotFound(key.ResourceGroup);
            case WriteOutcome.ResourceGroupDeleting:
                return ArmErrors.ResourceGroupBeingDeleted(key.ResourceGroup);
            default:
                return ArmErrors.AnotherOperationInProgress(record.ResourceId);
        }
    }

    // A snapshot's copy is fixed: a PUT of an existing one may change its tags only.
    private async Task<ArmResult<SnapshotWriteResult>> UpdateAsync(SnapshotRecord previous, SnapshotResource sent, string location, CancellationToken cancellationToken)
    {
        if (location != previous.Location)
            return ArmErrors.InvalidResourceLocation(previous.Name, previous.Location, previous.ResourceGroup, location);
        if (!string.Equals(sent.Properties!.CreationData!.SourceResourceId, previous.SourceResourceId, StringComparison.OrdinalIgnoreCase))
            return ArmErrors.Fail(ArmErrors.Conflict, "PropertyChangeNotAllowed", "Changing property 'creationData.sourceResourceId' is not allowed.",
                "properties.creationData.sourceResourceId");
        if (previous.ProvisioningState == ProvisioningState.Deleting)
            return ArmErrors.AnotherOperationInProgress(previous.ResourceId);
        SnapshotRecord next = previous with { Tags = sent.Tags, Version = previous.Version + 1 };
        if (await snapshots.WriteAsync(new SnapshotWrite { Key = previous.Key, Record = next, ExpectedVersion = previous.Version }, cancellationToken)
            != WriteOutcome.Written)
            return ArmErrors.AnotherOperationInProgress(previous.ResourceId);
        return ArmResult.Ok(new SnapshotWriteResult(next, false, null));
    }

    /// <summary>The VM a <c>sourceResourceId</c> names: the VM itself, or its OS disk (<c>…/disks/{osDiskName}</c>) in the same resource group.</summary>
    private async Task<ArmResult<VirtualMachineRecord>> SourceAsync(string subscriptionId, string sourceId, CancellationToken cancellationToken)
    {
        const string target = "properties.creationData.sourceResourceId";
        if (ResourceIds.TryParseCompute(sourceId, "virtualMachines", out var vmId) && vmId.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase))
        {
            return await machines.GetAsync(new VirtualMachineKey(subscriptionId, vmId.ResourceGroup, vmId.Name), cancellationToken) is VirtualMachineRecord vm
                ? ArmResult.Ok(vm)
                : ArmErrors.ResourceNotFound(ResourceIds.VirtualMachineType, vmId.Name, vmId.ResourceGroup);
        }

        if (ResourceIds.TryParseCompute(sourceId, "disks", out var disk) && disk.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase))
        {
            string? token = null;
            do
            {
                Page<VirtualMachineRecord> page = await machines.ListAsync(subscriptionId, disk.ResourceGroup, token, options.PageSize, cancellationToken);
                if (page.Items.FirstOrDefault(v => string.Equals(v.Model.Properties.StorageProfile?.OsDisk?.Name, disk.Name, StringComparison.OrdinalIgnoreCase))
                    is VirtualMachineRecord owner)
                    return ArmResult.Ok(owner);
                token = page.ContinuationToken;
            }
            while (token is not null);
            return ArmErrors.Fail(ArmErrors.NotFound, "ResourceNotFound",
                $"The Resource 'Microsoft.Compute/disks/{disk.Name}' under resource group '{disk.ResourceGroup}' was not found: no VM in it has that OS disk.", target);
        }

        return ArmErrors.InvalidParameter(
            $"sourceResourceId '{sourceId}' is not a VM or an OS disk of this subscription: use /subscriptions/{{s}}/resourceGroups/{{rg}}/providers/Microsoft.Compute/" +
            "virtualMachines/{vm} (its OS disk) or …/Microsoft.Compute/disks/{osDiskName}.", target);
    }

    private static OperationRecord NewOperation(SnapshotRecord snapshot, OperationKind kind, long targetVersion, DateTimeOffset now) =>
        OperationRecord.Start(snapshot.SubscriptionId, snapshot.Location, snapshot.ResourceId, kind, targetVersion, now);

    private static ArmErrorDetail Failure(string message) => new() { Code = "SnapshotFailed", Message = message };
}
