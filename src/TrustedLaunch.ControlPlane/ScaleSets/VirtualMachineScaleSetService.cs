using System.Security.Cryptography;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.ScaleSets;

/// <summary>The answer to a scale set PUT/PATCH: the scale set, whether it was created, and the operation converging it (if any).</summary>
public sealed record ScaleSetWriteResult(VirtualMachineScaleSetRecord ScaleSet, bool Created, OperationRecord? Operation);

/// <summary>
/// Microsoft.Compute/virtualMachineScaleSets with flexible orchestration: PUT/PATCH (create, update, scale out and in
/// through <c>sku.capacity</c>), GET, list, DELETE and the instances. Each instance is a full VM made through
/// <see cref="VirtualMachineService"/> (the same rules, placement and host convergence as any VM, so each gets its own
/// VMGS with a freshly manufactured vTPM); the model's rules are judged once before any instance is made. The scale
/// set's operation completes when its instances have converged, checked whenever the operation or the scale set is read.
/// Bodies are ARM JSON, so a template deployment engine calls this as the HTTP endpoints do.
/// </summary>
public sealed class VirtualMachineScaleSetService(
    IVirtualMachineScaleSetStore scaleSets,
    IResourceGroupStore groups,
    IVirtualMachineStore machines,
    IOperationStore operations,
    VirtualMachineService vms,
    VirtualMachineLifecycle lifecycle,
    ScaleSetNetwork network,
    IHostStore hosts,
    Placement placement,
    ControlPlaneOptions options,
    TimeProvider time)
{
    /// <summary>PUT (<paramref name="patch"/> false: creates or updates) or PATCH (updates an existing scale set).</summary>
    public async Task<ArmResult<ScaleSetWriteResult>> CreateOrUpdateAsync(ScaleSetKey key, ReadOnlyMemory<byte> body, string? ifMatch,
        string? ifNoneMatch, bool patch, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(key.ResourceGroup) is ArmFailure badGroup)
            return badGroup;
        if (ScaleSetPlanner.CheckName(key.Name) is ArmFailure badName)
            return badName;
        ArmResult<VirtualMachineScaleSetResource> parsed = ControlPlaneJson.Read(body.Span, ControlPlaneJson.Default.VirtualMachineScaleSetResource);
        if (parsed.Failure is ArmFailure malformed)
            return malformed;
        VirtualMachineScaleSetResource sent = parsed.Value!;
        ResourceGroupRecord? group = await groups.GetAsync(key.SubscriptionId, key.ResourceGroup, cancellationToken);
        if (group is null)
            return ArmErrors.ResourceGroupNotFound(key.ResourceGroup);
        if (group.State == ResourceGroupState.Deleting)
            return ArmErrors.ResourceGroupBeingDeleted(group.Name);

        VirtualMachineScaleSetRecord? previous = await RefreshAsync(await scaleSets.GetAsync(key, cancellationToken), cancellationToken);
        if (EntityTags.CheckPreconditions(ifMatch, ifNoneMatch, previous?.Version) is ArmFailure precondition)
            return precondition;
        if (previous is null && patch)
            return ArmErrors.ResourceNotFound(ResourceIds.VirtualMachineScaleSetType, key.Name, key.ResourceGroup);
        if (previous?.PendingOperationId is string running)
            return ArmErrors.AnotherOperationInProgress(await OperationUrlAsync(running, previous, cancellationToken));

        string? location = (sent.Location ?? previous?.Location) is string l ? ResourceIds.NormalizeLocation(l) : null;
        if (location is null)
            return ArmErrors.LocationRequired();
        if (!options.IsLocationAllowed(location))
            return ArmErrors.LocationNotAvailable(location, ResourceIds.VirtualMachineScaleSetType, options.KnownLocations(location));
        if (previous is not null && location != previous.Location)
            return ArmErrors.InvalidResourceLocation(previous.Name, previous.Location, previous.ResourceGroup, location);

        VirtualMachineScaleSetResource merged = previous is null ? sent : ScaleSetPlanner.Merge(previous, sent);
        IReadOnlyList<ArmErrorDetail> errors = [.. ScaleSetPlanner.Check(merged, previous), .. ArmNames.CheckTags(merged.Tags)];
        if (errors.Count > 0)
            return ArmFailure.FromViolations(ArmErrors.BadRequest, errors);
        // The model's rules, once: the VM every instance will be (Trusted Launch defaults applied here and stored).
        VmPlan plan = await vms.PlanModelAsync($"{key.Name}_00000000",
            ScaleSetPlanner.InstanceModel(merged, location, key.Name, "00000000"), cancellationToken);
        if (!plan.Accepted)
            return ScaleSetPlanner.ForScaleSet(plan.ToFailure());
        if (await network.CheckAsync(key, location, merged.Properties!.VirtualMachineProfile!.NetworkProfile, cancellationToken) is { Count: > 0 } nicErrors)
            return ArmFailure.FromViolations(ArmErrors.BadRequest, nicErrors);
        if (previous is null && merged.Properties.PlatformFaultDomainCount is int domains and > 1
            && (await LiveHostsAsync(cancellationToken)).Count is int live && live < domains)
            return ArmErrors.InvalidParameter(
                $"platformFaultDomainCount {domains} needs {domains} live hosts, one per fault domain; {live} are live. Use 1 (max spreading over the hosts there are) or register more hosts.",
                "properties.platformFaultDomainCount");

        return await WriteAsync(key, previous, location, ScaleSetPlanner.Accepted(merged, plan.Model), ifMatch, ifNoneMatch, cancellationToken);
    }

    public async Task<ArmResult<VirtualMachineScaleSetRecord>> GetAsync(ScaleSetKey key, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(key.ResourceGroup) is ArmFailure badGroup)
            return badGroup;
        VirtualMachineScaleSetRecord? scaleSet = await RefreshAsync(await scaleSets.GetAsync(key, cancellationToken), cancellationToken);
        if (scaleSet is not null)
            return ArmResult.Ok<VirtualMachineScaleSetRecord>(scaleSet);
        return await groups.GetAsync(key.SubscriptionId, key.ResourceGroup, cancellationToken) is null
            ? ArmErrors.ResourceGroupNotFound(key.ResourceGroup)
            : ArmErrors.ResourceNotFound(ResourceIds.VirtualMachineScaleSetType, key.Name, key.ResourceGroup);
    }

    /// <summary>The scale sets of a subscription or resource group (404 when the group does not exist).</summary>
    public async Task<ArmResult<IReadOnlyList<VirtualMachineScaleSetRecord>>> ListAsync(string subscriptionId, string? resourceGroup,
        CancellationToken cancellationToken)
    {
        if (resourceGroup is not null)
        {
            if (ArmNames.CheckResourceGroup(resourceGroup) is ArmFailure badGroup)
                return badGroup;
            if (await groups.GetAsync(subscriptionId, resourceGroup, cancellationToken) is null)
                return ArmErrors.ResourceGroupNotFound(resourceGroup);
        }

        var listed = new List<VirtualMachineScaleSetRecord>();
        foreach (VirtualMachineScaleSetRecord scaleSet in await scaleSets.ListAsync(subscriptionId, resourceGroup, cancellationToken))
        {
            if (await RefreshAsync(scaleSet, cancellationToken) is { } now)
                listed.Add(now);
        }

        return ArmResult.Ok<IReadOnlyList<VirtualMachineScaleSetRecord>>(listed);
    }

    /// <summary>The scale set's instances: full VMs, oldest first.</summary>
    public async Task<ArmResult<IReadOnlyList<VirtualMachineRecord>>> ListInstancesAsync(ScaleSetKey key, CancellationToken cancellationToken)
    {
        ArmResult<VirtualMachineScaleSetRecord> found = await GetAsync(key, cancellationToken);
        if (found.Failure is ArmFailure failure)
            return failure;
        return ArmResult.Ok<IReadOnlyList<VirtualMachineRecord>>(await InstancesAsync(found.Value!.Key, cancellationToken));
    }

    /// <summary>Null when the scale set does not exist (DELETE answers 204); else the delete operation (202): every instance goes, with its disks and VMGS.</summary>
    public async Task<ArmResult<OperationRecord?>> DeleteAsync(ScaleSetKey key, string? ifMatch, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(key.ResourceGroup) is ArmFailure badGroup)
            return badGroup;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            VirtualMachineScaleSetRecord? scaleSet = await scaleSets.GetAsync(key, cancellationToken);
            if (scaleSet is null)
                return ArmResult.Ok<OperationRecord?>(null);
            if (EntityTags.CheckPreconditions(ifMatch, null, scaleSet.Version) is ArmFailure precondition)
                return precondition;
            OperationRecord? pending = scaleSet.PendingOperationId is string id ? await operations.GetAsync(id, cancellationToken) : null;
            if (scaleSet.ProvisioningState == ProvisioningState.Deleting && pending is { Kind: OperationKind.Delete })
                return ArmResult.Ok<OperationRecord?>(await ContinueAsync(pending, cancellationToken));

            DateTimeOffset now = time.GetUtcNow();
            OperationRecord operation = NewOperation(scaleSet, OperationKind.Delete, scaleSet.Version + 1, now);
            List<OperationRecord> writes = pending is { Status: OperationStatus.InProgress }
                ? [pending.Complete(OperationStatus.Canceled, now, ArmErrors.OperationPreempted()), operation]
                : [operation];
            VirtualMachineScaleSetRecord deleting = scaleSet with
            {
                Version = scaleSet.Version + 1, ProvisioningState = ProvisioningState.Deleting, PendingOperationId = operation.OperationId,
            };
            if (await scaleSets.SaveAsync(deleting, scaleSet.Version, writes, cancellationToken) != WriteOutcome.Written)
                continue;
            return ArmResult.Ok<OperationRecord?>(await ContinueAsync(operation, cancellationToken));
        }

        return ArmErrors.AnotherOperationInProgress(key.ResourceId);
    }

    /// <summary>
    /// A VM DELETE. Deleting an instance of a flexible scale set directly lowers the scale set's <c>sku.capacity</c> by
    /// one, as Azure's flexible orchestration does, so the next scale does not make it again. While the scale set is
    /// itself scaling (an operation pending) its capacity is left as that operation set it.
    /// </summary>
    public async Task<ArmResult<OperationRecord?>> DeleteVirtualMachineAsync(VirtualMachineKey key, string? ifMatch, CancellationToken cancellationToken)
    {
        VirtualMachineRecord? vm = await machines.GetAsync(key, cancellationToken);
        ArmResult<OperationRecord?> deleting = await lifecycle.DeleteAsync(key, ifMatch, cancellationToken);
        if (deleting.Failure is not null || vm is null || vm.ProvisioningState == ProvisioningState.Deleting
            || !ResourceIds.TryParseScaleSet(vm.Model.Properties.VirtualMachineScaleSet?.Id, out var owner))
            return deleting;
        var scaleSetKey = new ScaleSetKey(owner.SubscriptionId, owner.ResourceGroup, owner.Name);
        for (int attempt = 0; attempt < 5; attempt++)
        {
            VirtualMachineScaleSetRecord? scaleSet = await scaleSets.GetAsync(scaleSetKey, cancellationToken);
            if (scaleSet is null || scaleSet.PendingOperationId is not null || scaleSet.Capacity == 0)
                break;
            VirtualMachineScaleSetRecord lowered = scaleSet with
            {
                Version = scaleSet.Version + 1,
                Model = scaleSet.Model with { Sku = (scaleSet.Model.Sku ?? new ScaleSetSku()) with { Capacity = scaleSet.Capacity - 1 } },
            };
            if (await scaleSets.SaveAsync(lowered, scaleSet.Version, [], cancellationToken) == WriteOutcome.Written)
                break;
        }

        return deleting;
    }

    /// <summary>
    /// Moves a scale set's operation on: a create or update completes when its instances number <c>sku.capacity</c>,
    /// all succeeded and none still being deleted (it fails with the first failed instance's error); a delete asks every
    /// instance to go (again, after a crash in between) and removes the scale set once none is left.
    /// </summary>
    public async Task<OperationRecord> ContinueAsync(OperationRecord operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (operation.Status != OperationStatus.InProgress || !ResourceIds.TryParseScaleSet(operation.ResourceId, out var id))
            return operation;
        var key = new ScaleSetKey(id.SubscriptionId, id.ResourceGroup, id.Name);
        VirtualMachineScaleSetRecord? scaleSet = await scaleSets.GetAsync(key, cancellationToken);
        if (scaleSet is null || scaleSet.PendingOperationId != operation.OperationId)
            return await CompleteAsync(operation, scaleSet is null && operation.Kind == OperationKind.Delete ? OperationStatus.Succeeded : OperationStatus.Canceled,
                null, cancellationToken);
        IReadOnlyList<VirtualMachineRecord> instances = await InstancesAsync(key, cancellationToken);
        if (operation.Kind == OperationKind.Delete)
        {
            foreach (VirtualMachineRecord instance in instances.Where(i => i.ProvisioningState != ProvisioningState.Deleting))
                _ = await lifecycle.DeleteAsync(instance.Key, ifMatch: null, cancellationToken);
            if (instances.Count > 0 || (await InstancesAsync(key, cancellationToken)).Count > 0)
                return operation;
            OperationRecord deleted = operation.Complete(OperationStatus.Succeeded, time.GetUtcNow());
            return await scaleSets.RemoveAsync(key, scaleSet.Version, deleted, cancellationToken) == WriteOutcome.Written ? deleted : operation;
        }

        if (instances.FirstOrDefault(i => i.ProvisioningState == ProvisioningState.Failed) is VirtualMachineRecord failed)
            return await FinishAsync(scaleSet, operation, OperationStatus.Failed, await InstanceErrorAsync(failed, cancellationToken), cancellationToken);
        bool converged = instances.Count == scaleSet.Capacity && instances.All(i => i.ProvisioningState == ProvisioningState.Succeeded);
        return converged ? await FinishAsync(scaleSet, operation, OperationStatus.Succeeded, null, cancellationToken) : operation;
    }

    private async Task<ArmResult<ScaleSetWriteResult>> WriteAsync(ScaleSetKey key, VirtualMachineScaleSetRecord? previous, string location,
        VirtualMachineScaleSetResource model, string? ifMatch, string? ifNoneMatch, CancellationToken cancellationToken)
    {
        DateTimeOffset now = time.GetUtcNow();
        long version = (previous?.Version ?? 0) + 1;
        IReadOnlyList<VirtualMachineRecord> instances = previous is null ? [] : await InstancesAsync(key, cancellationToken);
        // Instances being deleted (a scale-in before, or a VM deleted directly) no longer count towards the capacity.
        bool scales = instances.Count(i => i.ProvisioningState != ProvisioningState.Deleting) != (model.Sku?.Capacity ?? 0)
            || instances.Any(i => i.ProvisioningState == ProvisioningState.Deleting);
        var record = new VirtualMachineScaleSetRecord
        {
            SubscriptionId = key.SubscriptionId,
            ResourceGroup = previous?.ResourceGroup ?? key.ResourceGroup,
            Name = previous?.Name ?? key.Name,
            UniqueId = previous?.UniqueId ?? Guid.NewGuid(),
            Location = location,
            Version = version,
            Model = model,
            ProvisioningState = ProvisioningState.Succeeded,
            TimeCreated = previous?.TimeCreated ?? now,
        };
        OperationRecord operation = NewOperation(record, previous is null ? OperationKind.Create : OperationKind.Update, version, now);
        if (scales)
            record = record with { ProvisioningState = previous is null ? ProvisioningState.Creating : ProvisioningState.Updating, PendingOperationId = operation.OperationId };
        else
            operation = operation.Complete(OperationStatus.Succeeded, now);

        switch (await scaleSets.SaveAsync(record, previous?.Version, [operation], cancellationToken))
        {
            case WriteOutcome.Written:
                break;
            case WriteOutcome.ResourceGroupMissing:
                return ArmErrors.ResourceGroupNotFound(key.ResourceGroup);
            case WriteOutcome.ResourceGroupDeleting:
                return ArmErrors.ResourceGroupBeingDeleted(key.ResourceGroup);
            default:
                VirtualMachineScaleSetRecord? winner = await scaleSets.GetAsync(key, cancellationToken);
                return EntityTags.CheckPreconditions(ifMatch, ifNoneMatch, winner?.Version) as ArmFailure
                    ?? ArmErrors.AnotherOperationInProgress(key.ResourceId);
        }

        if (scales)
        {
            if (await ScaleAsync(record, instances, cancellationToken) is ArmErrorDetail refused)
                operation = await FinishAsync(record, operation, OperationStatus.Failed, refused, cancellationToken);
            else
                operation = await ContinueAsync(operation, cancellationToken);
            record = await scaleSets.GetAsync(key, cancellationToken) ?? record;
        }

        return ArmResult.Ok<ScaleSetWriteResult>(new ScaleSetWriteResult(record, previous is null,
            operation.Status == OperationStatus.InProgress || scales ? operation : null));
    }

    /// <summary>Makes or removes instances until they number the capacity; the first refusal (e.g. no host has room) stops it.</summary>
    private async Task<ArmErrorDetail?> ScaleAsync(VirtualMachineScaleSetRecord scaleSet, IReadOnlyList<VirtualMachineRecord> all,
        CancellationToken cancellationToken)
    {
        VirtualMachineRecord[] instances = [.. all.Where(i => i.ProvisioningState != ProvisioningState.Deleting)];
        var placed = instances.Select(i => new PlacedInstance(i.Model.Properties.PlatformFaultDomain, i.HostName)).ToList();
        IReadOnlyList<string> live = await LiveHostsAsync(cancellationToken);
        for (long count = instances.Length; count < scaleSet.Capacity; count++)
        {
            string suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
            var instanceKey = new VirtualMachineKey(scaleSet.SubscriptionId, scaleSet.ResourceGroup, $"{scaleSet.Name}_{suffix}");
            IReadOnlyList<FaultDomainSlot> slots = FaultDomainPlanner.Slots(scaleSet.Model.Properties?.PlatformFaultDomainCount ?? 1, live, placed);
            if (slots.Count == 0)
                return ArmErrors.AllocationFailed() with
                {
                    Message = $"Instance '{instanceKey.Name}' could not be created: its fault domain needs a live host no other fault domain of the scale set uses, and none is left ({live.Count} live).",
                };
            ArmResult<NetworkProfile?> nics = await network.CreateAsync(scaleSet, instanceKey.Name, cancellationToken);
            if (nics.Failure is ArmFailure nicFailure)
                return nicFailure.Error with { Message = $"Instance '{instanceKey.Name}' could not be created: {nicFailure.Error.Message}", Details = null };
            ArmResult<VmWriteResult> made = new ArmFailure(ArmErrors.Conflict, ArmErrors.AllocationFailed());
            foreach (FaultDomainSlot slot in slots)
            {
                VirtualMachineResource model = ScaleSetPlanner.InstanceModel(scaleSet.Model, scaleSet.Location, scaleSet.Name, suffix, nics.Value);
                model = model with { Properties = model.Properties! with { PlatformFaultDomain = slot.FaultDomain } };
                made = await vms.PutScaleSetInstanceAsync(instanceKey, model, scaleSet.ResourceId, slot.HostName, cancellationToken);
                if (made.Failure?.Error.Code != ArmErrors.AllocationFailed().Code)
                    break; // made, or refused for a reason another host would not change
            }

            if (made.Failure is ArmFailure failure)
            {
                await network.RemoveAsync(nics.Value, cancellationToken);
                return failure.Error with { Message = $"Instance '{instanceKey.Name}' could not be created: {failure.Error.Message}", Details = null };
            }

            placed.Add(new PlacedInstance(made.Value!.Vm.Model.Properties.PlatformFaultDomain, made.Value.Vm.HostName));
        }

        foreach (VirtualMachineRecord victim in ScaleSetPlanner.ScaleInVictims(instances, scaleSet.Capacity))
        {
            ArmResult<OperationRecord?> deleting = await lifecycle.DeleteAsync(victim.Key, ifMatch: null, cancellationToken);
            if (deleting.Failure is ArmFailure failure)
                return failure.Error with { Message = $"Instance '{victim.Name}' could not be deleted: {failure.Error.Message}", Details = null };
        }

        return null;
    }

    // The live hosts in registration order: a fault domain is a host of its own.
    private async Task<IReadOnlyList<string>> LiveHostsAsync(CancellationToken cancellationToken) =>
        [.. (await hosts.ListAsync(cancellationToken)).Where(placement.IsAlive).Select(h => h.Name)];

    /// <summary>Instances of the scale set (by <c>virtualMachineScaleSet.id</c>), those being deleted included, oldest first.</summary>
    private async Task<IReadOnlyList<VirtualMachineRecord>> InstancesAsync(ScaleSetKey key, CancellationToken cancellationToken)
    {
        var instances = new List<VirtualMachineRecord>();
        string? token = null;
        do
        {
            Page<VirtualMachineRecord> page = await machines.ListAsync(key.SubscriptionId, key.ResourceGroup, token, options.PageSize, cancellationToken);
            instances.AddRange(page.Items.Where(vm => ResourceIds.TryParseScaleSet(vm.Model.Properties.VirtualMachineScaleSet?.Id, out var owner)
                && ResourceIds.Key(owner.Name) == key.NameKey && ResourceIds.Key(owner.ResourceGroup) == key.ResourceGroupKey
                && owner.SubscriptionId.Equals(key.SubscriptionId, StringComparison.OrdinalIgnoreCase)));
            token = page.ContinuationToken;
        }
        while (token is not null);
        return [.. instances.OrderBy(i => i.TimeCreated).ThenBy(i => i.Name, StringComparer.OrdinalIgnoreCase)];
    }

    private async Task<VirtualMachineScaleSetRecord?> RefreshAsync(VirtualMachineScaleSetRecord? scaleSet, CancellationToken cancellationToken)
    {
        if (scaleSet?.PendingOperationId is not string id || await operations.GetAsync(id, cancellationToken) is not { } pending)
            return scaleSet;
        if (pending.Status == OperationStatus.InProgress)
            pending = await ContinueAsync(pending, cancellationToken);
        if (pending.Status == OperationStatus.InProgress)
            return scaleSet;
        VirtualMachineScaleSetRecord? now = await scaleSets.GetAsync(scaleSet.Key, cancellationToken);
        if (now is { PendingOperationId: string stale } && stale == pending.OperationId)
        {
            // The operation ended without its scale set being told (a crash in between): settle it now.
            now = now with { PendingOperationId = null, ProvisioningState = pending.Status == OperationStatus.Succeeded ? ProvisioningState.Succeeded : ProvisioningState.Failed };
            await scaleSets.SaveAsync(now, now.Version, [], cancellationToken);
        }

        return now;
    }

    private async Task<OperationRecord> FinishAsync(VirtualMachineScaleSetRecord scaleSet, OperationRecord operation, OperationStatus status,
        ArmErrorDetail? error, CancellationToken cancellationToken)
    {
        OperationRecord done = operation.Complete(status, time.GetUtcNow(), error);
        VirtualMachineScaleSetRecord settled = scaleSet with
        {
            PendingOperationId = null,
            ProvisioningState = status == OperationStatus.Succeeded ? ProvisioningState.Succeeded : ProvisioningState.Failed,
        };
        // The version stays: finishing is the platform's doing, not a change of the owner's (as a VM's completion).
        return await scaleSets.SaveAsync(settled, scaleSet.Version, [done], cancellationToken) == WriteOutcome.Written
            ? done
            : await operations.GetAsync(operation.OperationId, cancellationToken) ?? operation;
    }

    private async Task<OperationRecord> CompleteAsync(OperationRecord operation, OperationStatus status, ArmErrorDetail? error, CancellationToken cancellationToken)
    {
        OperationRecord done = operation.Complete(status, time.GetUtcNow(), error);
        await operations.CompleteAsync(done, cancellationToken);
        return done;
    }

    private async Task<ArmErrorDetail> InstanceErrorAsync(VirtualMachineRecord instance, CancellationToken cancellationToken)
    {
        ArmErrorDetail? inner = instance.LastReport?.Error;
        if (inner is null && instance.PendingOperationId is string id)
            inner = (await operations.GetAsync(id, cancellationToken))?.Error;
        return new ArmErrorDetail
        {
            Code = inner?.Code ?? "InstanceFailed",
            Message = $"Instance '{instance.Name}' failed: {inner?.Message ?? "its provisioning failed."}",
            Target = instance.ResourceId,
        };
    }

    private async Task<string> OperationUrlAsync(string operationId, VirtualMachineScaleSetRecord scaleSet, CancellationToken cancellationToken) =>
        await operations.GetAsync(operationId, cancellationToken) is { } pending
            ? VirtualMachineViews.OperationUrl(pending, ApiVersions.Compute[0])
            : scaleSet.ResourceId;

    private static OperationRecord NewOperation(VirtualMachineScaleSetRecord scaleSet, OperationKind kind, long targetVersion, DateTimeOffset now) =>
        OperationRecord.Start(scaleSet.SubscriptionId, scaleSet.Location, scaleSet.ResourceId, kind, targetVersion, now);
}
