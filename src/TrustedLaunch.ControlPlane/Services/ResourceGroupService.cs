using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.ScaleSets;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Services;

/// <summary>A resource group answer and whether the PUT created it.</summary>
public sealed record ResourceGroupWriteResult(ResourceGroupRecord Group, bool Created);

/// <summary>
/// Resource groups (Microsoft.Resources/resourceGroups): PUT creates or updates (tags), GET, list, DELETE deletes the
/// group and every VM and scale set in it (202; the group is gone once its last VM is, and its network resources and
/// deployments with it, in the store's same transaction).
/// </summary>
public sealed class ResourceGroupService(
    IResourceGroupStore groups,
    IVirtualMachineStore machines,
    IOperationStore operations,
    VirtualMachineLifecycle lifecycle,
    IVirtualMachineScaleSetStore scaleSets,
    Snapshots.SnapshotService snapshots,
    Disks.DiskService disks,
    ControlPlaneOptions options,
    TimeProvider time)
{
    public async Task<ArmResult<ResourceGroupWriteResult>> PutAsync(string subscriptionId, string name, ReadOnlyMemory<byte> body,
        string? ifMatch, string? ifNoneMatch, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(name) is ArmFailure badName)
            return badName;
        ArmResult<ResourceGroupResource> parsed = ControlPlaneJson.Read(body.Span, ControlPlaneJson.Default.ResourceGroupResource);
        if (parsed.Failure is ArmFailure malformed)
            return malformed;
        ResourceGroupResource request = parsed.Value!;
        if (string.IsNullOrWhiteSpace(request.Location))
            return ArmErrors.LocationRequired();
        string location = ResourceIds.NormalizeLocation(request.Location);
        if (!options.IsLocationAllowed(location))
            return ArmErrors.LocationNotAvailable(location, ResourceIds.ResourceGroupType, options.KnownLocations(location));
        if (ArmNames.CheckTags(request.Tags) is { Count: > 0 } tagErrors)
            return ArmFailure.FromViolations(ArmErrors.BadRequest, tagErrors);

        ResourceGroupRecord? existing = await groups.GetAsync(subscriptionId, name, cancellationToken);
        if (EntityTags.CheckPreconditions(ifMatch, ifNoneMatch, existing?.Version) is ArmFailure precondition)
            return precondition;
        if (existing is { State: ResourceGroupState.Deleting })
            return ArmErrors.ResourceGroupBeingDeleted(existing.Name);
        if (existing is not null && existing.Location != location)
            return ArmErrors.Fail(ArmErrors.Conflict, "InvalidResourceGroupLocation",
                $"Invalid resource group location '{location}'. The Resource group already exists in location '{existing.Location}'.");

        ResourceGroupRecord group = existing is null
            ? new ResourceGroupRecord
            {
                SubscriptionId = subscriptionId, Name = name, Location = location, Tags = request.Tags, Version = 1,
                State = ResourceGroupState.Succeeded, CreatedAt = time.GetUtcNow(),
            }
            : existing with { Tags = request.Tags, Version = existing.Version + 1 };
        return await groups.SaveAsync(group, existing?.Version, cancellationToken) switch
        {
            WriteOutcome.Written => ArmResult.Ok<ResourceGroupWriteResult>(new ResourceGroupWriteResult(group, existing is null)),
            _ => await ConflictAsync(subscriptionId, name, ifMatch, ifNoneMatch, cancellationToken),
        };
    }

    public async Task<ArmResult<ResourceGroupRecord>> GetAsync(string subscriptionId, string name, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(name) is ArmFailure badName)
            return badName;
        ResourceGroupRecord? group = await groups.GetAsync(subscriptionId, name, cancellationToken);
        return group is null ? ArmErrors.ResourceGroupNotFound(name) : ArmResult.Ok<ResourceGroupRecord>(group);
    }

    public Task<IReadOnlyList<ResourceGroupRecord>> ListAsync(string subscriptionId, CancellationToken cancellationToken) =>
        groups.ListAsync(subscriptionId, cancellationToken);

    /// <summary>Starts deleting a group and its VMs; the operation completes when the group is gone.</summary>
    public async Task<ArmResult<OperationRecord>> DeleteAsync(string subscriptionId, string name, string? ifMatch, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(name) is ArmFailure badName)
            return badName;
        for (int attempt = 0; ; attempt++)
        {
            ResourceGroupRecord? group = await groups.GetAsync(subscriptionId, name, cancellationToken);
            if (group is null)
                return ArmErrors.ResourceGroupNotFound(name);
            if (EntityTags.CheckPreconditions(ifMatch, null, group.Version) is ArmFailure precondition)
                return precondition;
            DateTimeOffset now = time.GetUtcNow();
            var operation = new OperationRecord
            {
                OperationId = Guid.NewGuid().ToString(), SubscriptionId = subscriptionId, Location = group.Location,
                ResourceId = ResourceIds.ResourceGroup(subscriptionId, group.Name), Kind = OperationKind.DeleteResourceGroup,
                Status = OperationStatus.InProgress, StartTime = now,
            };
            ResourceGroupRecord deleting = group with { State = ResourceGroupState.Deleting, Version = group.Version + 1 };
            if (await groups.SaveAsync(deleting, group.Version, cancellationToken) != WriteOutcome.Written)
            {
                if (attempt < 3)
                    continue;
                return ArmErrors.AnotherOperationInProgress(ResourceIds.ResourceGroup(subscriptionId, group.Name));
            }

            await groups.SaveOperationAsync(operation, cancellationToken);
            return ArmResult.Ok<OperationRecord>(await ContinueDeletionAsync(operation, cancellationToken));
        }
    }

    /// <summary>
    /// Moves a group deletion on: asks every VM still in the group to be deleted (again, after a crash in between),
    /// removes the group once empty, and completes the operation when the group is gone.
    /// </summary>
    public async Task<OperationRecord> ContinueDeletionAsync(OperationRecord operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (operation.Status != OperationStatus.InProgress)
            return operation;
        string name = operation.ResourceId[(operation.ResourceId.LastIndexOf('/') + 1)..];
        ResourceGroupRecord? group = await groups.GetAsync(operation.SubscriptionId, name, cancellationToken);
        if (group is not null)
        {
            string? token = null;
            do
            {
                Page<VirtualMachineRecord> page = await machines.ListAsync(operation.SubscriptionId, name, token, options.PageSize, cancellationToken);
                foreach (VirtualMachineRecord vm in page.Items.Where(v => v.ProvisioningState != ProvisioningState.Deleting))
                    _ = await lifecycle.DeleteAsync(vm.Key, ifMatch: null, cancellationToken);
                token = page.ContinuationToken;
            }
            while (token is not null);
            // Its snapshots too: each one's host removes its files, then the row goes (the group waits for them as for its VMs).
            await snapshots.DeleteAllAsync(operation.SubscriptionId, name, cancellationToken);
            // And its Unattached disks (an attached one goes with its VM; one its VM's deletion detached is asked at the next pass).
            await disks.DeleteAllAsync(operation.SubscriptionId, name, cancellationToken);
            // The group's scale sets go with it (their instances are among the VMs just asked to go).
            foreach (VirtualMachineScaleSetRecord scaleSet in await scaleSets.ListAsync(operation.SubscriptionId, name, cancellationToken))
            {
                OperationRecord? pending = scaleSet.PendingOperationId is string id ? await operations.GetAsync(id, cancellationToken) : null;
                _ = await scaleSets.RemoveAsync(scaleSet.Key, scaleSet.Version,
                    pending is { Status: OperationStatus.InProgress } ? pending.Complete(OperationStatus.Canceled, time.GetUtcNow(), ArmErrors.OperationPreempted()) : null,
                    cancellationToken);
            }

            group = await groups.GetAsync(operation.SubscriptionId, name, cancellationToken);
            if (group is not null && await groups.RemoveAsync(operation.SubscriptionId, name, group.Version, cancellationToken) == WriteOutcome.Written)
                group = null;
        }

        if (group is not null)
            return operation;
        OperationRecord done = operation.Complete(OperationStatus.Succeeded, time.GetUtcNow());
        await operations.CompleteAsync(done, cancellationToken);
        return done;
    }

    public static ResourceGroupResource View(ResourceGroupRecord group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return new ResourceGroupResource
        {
            Id = ResourceIds.ResourceGroup(group.SubscriptionId, group.Name),
            Name = group.Name,
            Type = ResourceIds.ResourceGroupType,
            Location = group.Location,
            Tags = group.Tags ?? new Dictionary<string, string>(),
            Properties = new ResourceGroupProperties { ProvisioningState = group.State.ToString() },
        };
    }

    // The group changed between our read and our write: a concurrent request won. Its preconditions decide between 412 and 409.
    private async Task<ArmResult<ResourceGroupWriteResult>> ConflictAsync(string subscriptionId, string name, string? ifMatch, string? ifNoneMatch,
        CancellationToken cancellationToken)
    {
        ResourceGroupRecord? now = await groups.GetAsync(subscriptionId, name, cancellationToken);
        return EntityTags.CheckPreconditions(ifMatch, ifNoneMatch, now?.Version) is ArmFailure precondition
            ? precondition
            : ArmErrors.AnotherOperationInProgress(ResourceIds.ResourceGroup(subscriptionId, name));
    }
}
