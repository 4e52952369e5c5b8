using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Network;
using TrustedLaunch.ControlPlane.Rules;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Services;

/// <summary>The answer to a VM PUT/PATCH: the VM, whether it was created, and the operation converging it (if any).</summary>
public sealed record VmWriteResult(VirtualMachineRecord Vm, bool Created, OperationRecord? Operation);

/// <summary>
/// Microsoft.Compute/virtualMachines: PUT (create or update), PATCH, GET, list and the instance view. Every write is
/// judged by <see cref="VmPlanner"/> (request checks, Azure's defaults, the rules table) and stored with its operation
/// in one compare-and-swap write: a refused or lost request leaves nothing behind.
/// </summary>
public sealed class VirtualMachineService(
    IVirtualMachineStore machines,
    IResourceGroupStore groups,
    IOperationStore operations,
    IHostStore hosts,
    ImageCatalogService images,
    Placement placement,
    HostSignals signals,
    IReferencePolicyLookup policies,
    IAttestationStatusSource attestations,
    IAttestationEnrollment enrollment,
    SecureBootPreflight preflight,
    Snapshots.SnapshotService snapshots,
    Disks.DiskService disks,
    VmNetworkCheck networkCheck,
    ControlPlaneOptions options,
    TimeProvider time)
{
    public SizeCatalog Sizes { get; init; } = SizeCatalog.Default;

    public RuleTable Rules { get; init; } = RuleTable.Default;

    /// <summary>PUT (<paramref name="patch"/> false: creates or updates) or PATCH (updates an existing VM).</summary>
    public async Task<ArmResult<VmWriteResult>> PutAsync(VirtualMachineKey key, ReadOnlyMemory<byte> body, string? ifMatch, string? ifNoneMatch,
        bool patch, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(key.ResourceGroup) is ArmFailure badGroup)
            return badGroup;
        if (ArmNames.CheckVirtualMachine(key.Name) is ArmFailure badName)
            return badName;
        ArmResult<VirtualMachineResource> parsed = ControlPlaneJson.Read(body.Span, ControlPlaneJson.Default.VirtualMachineResource);
        if (parsed.Failure is ArmFailure malformed)
            return malformed;
        return await WriteAsync(key, parsed.Value!, ifMatch, ifNoneMatch, patch, scaleSetId: null, cancellationToken);
    }

    /// <summary>
    /// Creates (or updates) an instance of a flexible scale set: the VM the scale set's model describes, judged by the same
    /// rules as any VM, with <c>virtualMachineScaleSet.id</c> set.
    /// </summary>
    internal Task<ArmResult<VmWriteResult>> PutScaleSetInstanceAsync(VirtualMachineKey key, VirtualMachineResource instance, string scaleSetId,
        string? hostName, CancellationToken cancellationToken) =>
        WriteAsync(key, instance, ifMatch: null, ifNoneMatch: "*", patch: false, scaleSetId, cancellationToken, hostName);

    /// <summary>
    /// The rules on a VM model without writing anything: the scale set's model is judged once, as the VM it describes
    /// (<paramref name="name"/> stands for the instance names), before any instance is made.
    /// </summary>
    internal async Task<VmPlan> PlanModelAsync(string name, VirtualMachineResource model, CancellationToken cancellationToken) =>
        VmPlanner.Plan(await PlanInputAsync(name, Guid.NewGuid(), model, model, null, cancellationToken), Rules);

    private async Task<ArmResult<VmWriteResult>> WriteAsync(VirtualMachineKey key, VirtualMachineResource sent, string? ifMatch, string? ifNoneMatch,
        bool patch, string? scaleSetId, CancellationToken cancellationToken, string? instanceHost = null)
    {
        ResourceGroupRecord? group = await groups.GetAsync(key.SubscriptionId, key.ResourceGroup, cancellationToken);
        if (group is null)
            return ArmErrors.ResourceGroupNotFound(key.ResourceGroup);
        if (group.State == ResourceGroupState.Deleting)
            return ArmErrors.ResourceGroupBeingDeleted(group.Name);
        VirtualMachineRecord? previous = await machines.GetAsync(key, cancellationToken);
        if (EntityTags.CheckPreconditions(ifMatch, ifNoneMatch, previous?.Version) is ArmFailure precondition)
            return precondition;
        if (previous is null && patch)
            return ArmErrors.ResourceNotFound(ResourceIds.VirtualMachineType, key.Name, key.ResourceGroup);
        if (previous is not null && Hosts.LibvirtDomainService.Refusal(previous, patch ? "patch" : "update") is ArmFailure external)
            return external;
        if (previous is null && sent.Properties?.TrustedLaunchExtensions?.ExternallyManaged is not null)
        {
            return ArmErrors.InvalidParameter("trustedLaunchExtensions.externallyManaged is read-only: a host registers the VMs another manager runs " +
                "(tl host --libvirt-domain).", "properties.trustedLaunchExtensions.externallyManaged");
        }
        if (previous is not null && await BusyAsync(previous, allowPreempt: false, cancellationToken) is ArmFailure busy)
            return busy;
        if (ScaleSetMembership(sent, previous, scaleSetId) is ArmFailure membership)
            return membership;
        if (scaleSetId is not null)
            sent = sent with { Properties = (sent.Properties ?? new VirtualMachineProperties()) with { VirtualMachineScaleSet = new SubResource { Id = scaleSetId } } };

        if (patch && sent.Location is null)
            sent = sent with { Location = previous!.Location };
        string? location = sent.Location is null ? null : ResourceIds.NormalizeLocation(sent.Location);
        if (location is not null && !options.IsLocationAllowed(location))
            return ArmErrors.LocationNotAvailable(location, ResourceIds.VirtualMachineType, options.KnownLocations(location));
        if (previous is not null && location is not null && location != previous.Location)
            return ArmErrors.InvalidResourceLocation(previous.Name, previous.Location, previous.ResourceGroup, location);

        Snapshots.SnapshotRecord? attached = null;
        Disks.DiskRecord? attachedDisk = null;
        if (previous is null && VmAttach.IsAttachOfDisk(sent))
        {
            ArmResult<Disks.DiskRecord> found = await VmAttach.FindDiskAsync(disks, hosts, placement, key.SubscriptionId, sent, cancellationToken);
            if (found.Failure is ArmFailure notAttachable)
                return notAttachable;
            attachedDisk = found.Value!;
            ArmResult<VirtualMachineResource> applied = VmAttach.Apply(sent, attachedDisk);
            if (applied.Failure is ArmFailure incompatible)
                return incompatible;
            sent = applied.Value!;
        }
        else if (previous is null && VmAttach.IsAttach(sent))
        {
            ArmResult<Snapshots.SnapshotRecord> found = await VmAttach.FindAsync(snapshots, key.SubscriptionId, sent, cancellationToken);
            if (found.Failure is ArmFailure notAttachable)
                return notAttachable;
            attached = found.Value!;
            ArmResult<VirtualMachineResource> applied = VmAttach.Apply(sent, attached);
            if (applied.Failure is ArmFailure incompatible)
                return incompatible;
            sent = applied.Value!;
        }

        VirtualMachineResource merged = previous is null ? sent : VirtualMachineMerge.Merge(previous, sent);
        Guid vmId = previous?.VmId ?? Guid.NewGuid();
        VmPlan plan = VmPlanner.Plan(await PlanInputAsync(key.Name, vmId, merged, sent, previous, cancellationToken), Rules);
        if (!plan.Accepted)
            return plan.ToFailure();
        if (await networkCheck.CheckAsync(key, location ?? previous!.Location, plan.Model.Properties.NetworkProfile, cancellationToken) is { Count: > 0 } nicErrors)
            return ArmFailure.FromViolations(ArmErrors.BadRequest, nicErrors);
        if (previous is not null && await preflight.CheckAsync(previous, plan.Model, cancellationToken) is ArmFailure wouldNotBoot)
            return wouldNotBoot;

        VmSize size = Sizes.Find(plan.Model.Properties.HardwareProfile!.VmSize!)!;
        return previous is null
            ? await CreateAsync(key, vmId, location!, plan, size, attached, attachedDisk, instanceHost, ifMatch, ifNoneMatch, cancellationToken)
            : await UpdateAsync(previous, plan, size, ifMatch, ifNoneMatch, cancellationToken);
    }

    /// <summary>
    /// Judges a create request as <see cref="PutAsync"/> would (the same look-ups, request checks and rules table) and
    /// stores nothing: the portal shows the verdict beside the form before it is submitted.
    /// </summary>
    public async Task<VmPlan> PreviewCreateAsync(string name, VirtualMachineResource request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return VmPlanner.Plan(await PlanInputAsync(name, Guid.Empty, request, request, null, cancellationToken), Rules);
    }

    public async Task<ArmResult<VirtualMachineRecord>> GetAsync(VirtualMachineKey key, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(key.ResourceGroup) is ArmFailure badGroup)
            return badGroup;
        VirtualMachineRecord? vm = await machines.GetAsync(key, cancellationToken);
        if (vm is not null)
            return ArmResult.Ok<VirtualMachineRecord>(vm);
        return await groups.GetAsync(key.SubscriptionId, key.ResourceGroup, cancellationToken) is null
            ? ArmErrors.ResourceGroupNotFound(key.ResourceGroup)
            : ArmErrors.ResourceNotFound(ResourceIds.VirtualMachineType, key.Name, key.ResourceGroup);
    }

    /// <summary>One page of the VMs of a subscription or resource group (404 when the group does not exist).</summary>
    public async Task<ArmResult<Page<VirtualMachineRecord>>> ListAsync(string subscriptionId, string? resourceGroup, string? continuationToken,
        CancellationToken cancellationToken)
    {
        if (resourceGroup is not null)
        {
            if (ArmNames.CheckResourceGroup(resourceGroup) is ArmFailure badGroup)
                return badGroup;
            if (await groups.GetAsync(subscriptionId, resourceGroup, cancellationToken) is null)
                return ArmErrors.ResourceGroupNotFound(resourceGroup);
        }

        return ArmResult.Ok<Page<VirtualMachineRecord>>(
            await machines.ListAsync(subscriptionId, resourceGroup, continuationToken, options.PageSize, cancellationToken));
    }

    public async Task<ArmResult<VirtualMachineInstanceView>> GetInstanceViewAsync(VirtualMachineKey key, CancellationToken cancellationToken)
    {
        ArmResult<VirtualMachineRecord> found = await GetAsync(key, cancellationToken);
        if (found.Failure is ArmFailure failure)
            return failure;
        return ArmResult.Ok<VirtualMachineInstanceView>(await InstanceViewAsync(found.Value!, cancellationToken));
    }

    public async Task<VirtualMachineInstanceView> InstanceViewAsync(VirtualMachineRecord vm, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vm);
        bool? alive = vm.HostName is null ? null : await hosts.GetAsync(vm.HostName, cancellationToken) is HostRecord host && placement.IsAlive(host);
        OperationRecord? pending = vm.PendingOperationId is null ? null : await operations.GetAsync(vm.PendingOperationId, cancellationToken);
        AttestationSummary? attestation = await attestations.GetLatestAsync(vm.VmId, cancellationToken);
        return VirtualMachineViews.InstanceView(vm, alive, pending, attestation, vm.Generation);
    }

    // virtualMachineScaleSet is the scale set's to set (PATCH sku.capacity adds instances); a VM keeps the one it was made with.
    private static ArmFailure? ScaleSetMembership(VirtualMachineResource sent, VirtualMachineRecord? previous, string? scaleSetId)
    {
        string? asked = sent.Properties?.VirtualMachineScaleSet?.Id;
        string? current = previous?.Model.Properties.VirtualMachineScaleSet?.Id;
        if (scaleSetId is null && sent.Properties?.PlatformFaultDomain is int domain && domain != previous?.Model.Properties.PlatformFaultDomain)
            return previous?.Model.Properties.PlatformFaultDomain is null
                ? ArmErrors.InvalidParameter("properties.platformFaultDomain applies to instances of a scale set with platformFaultDomainCount greater than 1; the scale set sets it.", "properties.platformFaultDomain")
                : ArmErrors.Fail(ArmErrors.BadRequest, "PropertyChangeNotAllowed", "Changing property 'platformFaultDomain' is not allowed.", "properties.platformFaultDomain");
        if (asked is null || scaleSetId is not null || string.Equals(asked, current, StringComparison.OrdinalIgnoreCase))
            return null;
        return ArmErrors.InvalidParameter(
            "properties.virtualMachineScaleSet cannot be set on a VM: instances of a flexible scale set are made by the scale set " +
            "(PUT or PATCH of its sku.capacity), and a VM stays in the scale set it was made in.", "properties.virtualMachineScaleSet.id");
    }

    /// <summary>409 when an operation that cannot be preempted (create, delete, or with <paramref name="allowPreempt"/> false any) is in progress.</summary>
    internal async Task<ArmFailure?> BusyAsync(VirtualMachineRecord vm, bool allowPreempt, CancellationToken cancellationToken)
    {
        if (vm.PendingOperationId is null)
            return null;
        OperationRecord? pending = await operations.GetAsync(vm.PendingOperationId, cancellationToken);
        if (pending is null || pending.Status != OperationStatus.InProgress)
            return null;
        bool preemptible = allowPreempt && pending.Kind is not (OperationKind.Create or OperationKind.Delete);
        return preemptible ? null : ArmErrors.AnotherOperationInProgress(VirtualMachineViews.OperationUrl(pending, ApiVersions.Compute[0]));
    }

    private async Task<VmPlanInput> PlanInputAsync(string name, Guid vmId, VirtualMachineResource merged, VirtualMachineResource sent,
        VirtualMachineRecord? previous, CancellationToken cancellationToken)
    {
        VirtualMachineProperties? properties = merged.Properties;
        string? policy = properties?.TrustedLaunchExtensions?.ReferencePolicy;
        return new VmPlanInput
        {
            Name = name,
            VmId = vmId,
            Request = merged,
            Sent = sent,
            Previous = previous,
            PreviousSecurityType = previous is null ? null : previous.Model.Properties.SecurityProfile?.SecurityType ?? VmPlanner.Standard,
            Size = properties?.HardwareProfile?.VmSize is string size ? Sizes.Find(size) : null,
            Image = await images.LookupAsync(properties?.StorageProfile?.ImageReference, previous, cancellationToken),
            PolicyFound = policy is null ? null : await policies.ExistsAsync(policy, cancellationToken),
        };
    }

    private async Task<ArmResult<VmWriteResult>> CreateAsync(VirtualMachineKey key, Guid vmId, string location, VmPlan plan, VmSize size,
        Snapshots.SnapshotRecord? snapshot, Disks.DiskRecord? disk, string? instanceHost, string? ifMatch, string? ifNoneMatch,
        CancellationToken cancellationToken)
    {
        DateTimeOffset now = time.GetUtcNow();
        // A VM attached from a snapshot or a disk goes where its files are; a scale-set instance to its fault domain's host.
        string? pinnedHost = disk?.HostName ?? snapshot?.HostName ?? instanceHost;
        OperationRecord operation = NewOperation(key, location, OperationKind.Create, 1, now);
        var vm = new VirtualMachineRecord
        {
            SubscriptionId = key.SubscriptionId,
            ResourceGroup = key.ResourceGroup,
            Name = key.Name,
            VmId = vmId,
            Location = location,
            Version = 1,
            Model = plan.Model,
            ProvisioningState = ProvisioningState.Creating,
            DesiredPower = DesiredPowerState.Running,
            VCpus = size.VCpus,
            MemoryInMB = size.MemoryInMB,
            Generation = plan.Image.Generation ?? HyperVGeneration.V2,
            PendingOperationId = operation.OperationId,
            RestartGeneration = 0,
            TimeCreated = now,
            HostName = pinnedHost,
        };
        // Its OS disk is a Microsoft.Compute/disks resource, made (or attached) in the VM's own write.
        if (disk is null)
        {
            OSDisk osDisk = vm.Model.Properties.StorageProfile!.OsDisk!;
            if (await disks.FindAsync(ResourceIds.Disk(key.SubscriptionId, key.ResourceGroup, osDisk.Name!), cancellationToken) is not null)
                return Disks.OsDisks.NameTaken(osDisk.Name!, key.ResourceGroup);
            // The model names the VM's own new disk, also when it is made from a snapshot (as Azure: the snapshot is the disk's
            // creationData.sourceResourceId, never the VM's managedDisk.id).
            vm = vm with { Model = Disks.OsDisks.WithManagedDiskId(vm.Model, Disks.OsDisks.ResourceId(vm)) };
        }

        Disks.DiskWrite osDiskWrite = disk is null
            ? new Disks.DiskWrite { Key = default, Record = Disks.OsDisks.ForNewVm(vm, snapshot?.ResourceId) }
            : Disks.OsDisks.Attach(disk, vm);
        osDiskWrite = osDiskWrite with { Key = osDiskWrite.Record!.Key };
        PlacedWrite written = await placement.WriteAsync(new VirtualMachineWrite { Key = key, Record = vm, Operations = [operation], OsDisk = osDiskWrite },
            cancellationToken);
        if (written.Outcome == PlacementOutcome.NoCapacity && disk is not null)
        {
            return ArmErrors.Fail(ArmErrors.Conflict, "AllocationFailed",
                $"The VM cannot be created from disk '{disk.Name}': its files are on host {disk.HostName}, which has no room left for size " +
                $"{plan.Model.Properties.HardwareProfile!.VmSize} (a disk's VM runs on the host that holds it). Free capacity on that host and try again.",
                "properties.hardwareProfile.vmSize");
        }

        if (written.Outcome == PlacementOutcome.StoreRefused && written.Store == WriteOutcome.Conflict && disk is not null
            && await disks.FindAsync(disk.ResourceId, cancellationToken) is Disks.DiskRecord winner && winner.State == Disks.DiskState.Attached)
            return Disks.DiskService.AttachedRefusal(winner, "properties.storageProfile.osDisk.managedDisk.id");
        return await FinishAsync(written, key, operation, created: true, ifMatch, ifNoneMatch, cancellationToken);
    }

    private async Task<ArmResult<VmWriteResult>> UpdateAsync(VirtualMachineRecord previous, VmPlan plan, VmSize size, string? ifMatch, string? ifNoneMatch,
        CancellationToken cancellationToken)
    {
        DateTimeOffset now = time.GetUtcNow();
        long version = previous.Version + 1;
        // A placed VM's host applies the change unless the VM is deallocated. A VM on no host (its creation failed for
        // want of room) is placed again, as a new creation.
        bool unplaced = previous.HostName is null;
        bool hostMustApply = unplaced || previous.DesiredPower != DesiredPowerState.Deallocated;
        OperationRecord operation = NewOperation(previous.Key, previous.Location, OperationKind.Update, version, now);
        if (!hostMustApply)
            operation = operation.Complete(OperationStatus.Succeeded, now);
        VirtualMachineRecord vm = previous with
        {
            Version = version,
            Model = plan.Model,
            VCpus = size.VCpus,
            MemoryInMB = size.MemoryInMB,
            ProvisioningState = unplaced ? ProvisioningState.Creating : hostMustApply ? ProvisioningState.Updating : ProvisioningState.Succeeded,
            DesiredPower = unplaced ? DesiredPowerState.Running : previous.DesiredPower,
            PendingOperationId = hostMustApply ? operation.OperationId : null,
        };
        var write = new VirtualMachineWrite { Key = previous.Key, Record = vm, ExpectedSequence = previous.ChangeSequence, Operations = [operation] };
        PlacedWrite written;
        if (unplaced)
        {
            written = await placement.WriteAsync(write, cancellationToken);
        }
        else
        {
            WriteOutcome outcome = await machines.WriteAsync(write, cancellationToken);
            written = new PlacedWrite(outcome == WriteOutcome.Written ? PlacementOutcome.Written : PlacementOutcome.StoreRefused, outcome, vm);
        }

        return await FinishAsync(written, previous.Key, operation, created: false, ifMatch, ifNoneMatch, cancellationToken);
    }

    private async Task<ArmResult<VmWriteResult>> FinishAsync(PlacedWrite written, VirtualMachineKey key, OperationRecord operation, bool created,
        string? ifMatch, string? ifNoneMatch, CancellationToken cancellationToken)
    {
        switch (written.Outcome)
        {
            case PlacementOutcome.Written:
                VirtualMachineRecord vm = written.Record!;
                await EnrollAsync(vm, cancellationToken);
                if (vm.HostName is not null)
                    signals.Notify(vm.HostName);
                return ArmResult.Ok<VmWriteResult>(new VmWriteResult(vm, created, operation.Status == OperationStatus.InProgress ? operation : null));
            case PlacementOutcome.NoCapacity:
                return new ArmFailure(ArmErrors.Conflict, ArmErrors.AllocationFailed() with { Target = "properties.hardwareProfile.vmSize" });
            default:
                return written.Store switch
                {
                    WriteOutcome.ResourceGroupMissing => ArmErrors.ResourceGroupNotFound(key.ResourceGroup),
                    WriteOutcome.ResourceGroupDeleting => ArmErrors.ResourceGroupBeingDeleted(key.ResourceGroup),
                    _ => await LostRaceAsync(key, ifMatch, ifNoneMatch, cancellationToken),
                };
        }
    }

    /// <summary>A VM with a vTPM is attested, so the attestation registry knows it (with its policy) before its host relays evidence.</summary>
    private Task EnrollAsync(VirtualMachineRecord vm, CancellationToken cancellationToken) =>
        VirtualMachineLifecycle.HasVTpm(vm)
            ? enrollment.EnrollAsync(vm.VmId, vm.Model.Properties.TrustedLaunchExtensions?.ReferencePolicy, cancellationToken)
            : enrollment.WithdrawAsync(vm.VmId, cancellationToken);

    // A concurrent request changed the VM between our read and our write. Our preconditions, checked against what won,
    // decide: 412 when they no longer hold, else 409 naming the winner's operation.
    private async Task<ArmFailure> LostRaceAsync(VirtualMachineKey key, string? ifMatch, string? ifNoneMatch, CancellationToken cancellationToken)
    {
        VirtualMachineRecord? winner = await machines.GetAsync(key, cancellationToken);
        if (EntityTags.CheckPreconditions(ifMatch, ifNoneMatch, winner?.Version) is ArmFailure precondition)
            return precondition;
        OperationRecord? pending = winner?.PendingOperationId is string id ? await operations.GetAsync(id, cancellationToken) : null;
        return ArmErrors.AnotherOperationInProgress(pending is null
            ? ResourceIds.VirtualMachine(key.SubscriptionId, key.ResourceGroup, key.Name)
            : VirtualMachineViews.OperationUrl(pending, ApiVersions.Compute[0]));
    }

    internal static OperationRecord NewOperation(VirtualMachineKey key, string location, OperationKind kind, long targetVersion, DateTimeOffset now) =>
        OperationRecord.Start(key.SubscriptionId, location, ResourceIds.VirtualMachine(key.SubscriptionId, key.ResourceGroup, key.Name), kind, targetVersion, now);
}
