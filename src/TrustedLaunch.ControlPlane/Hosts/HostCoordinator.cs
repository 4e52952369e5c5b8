using System.Globalization;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Network;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Hosts;

/// <summary>
/// The control plane's side of the host contract (<see cref="HostAssignments"/>): registration, the long-polled
/// desired state, reports that complete (or fail) operations, and placement of VMs that waited for a host.
/// </summary>
public sealed class HostCoordinator(
    IHostStore hosts,
    IVirtualMachineStore machines,
    IOperationStore operations,
    IResourceGroupStore groups,
    ImageCatalogService images,
    Placement placement,
    HostSignals signals,
    HostPollWait pollWait,
    IAttestationEnrollment enrollment,
    Snapshots.SnapshotService snapshots,
    Snapshots.SnapshotRestoreService restores,
    Disks.DiskService disks,
    Disks.IDiskStore diskRows,
    SecureBootKeyUpdates keyUpdates,
    HostNetworkPlanner network,
    VmNicRelease nics,
    ControlPlaneOptions options,
    TimeProvider time)
{
    private const int Attempts = 5;

    public async Task<ArmResult<HostView>> RegisterAsync(string name, HostRegistration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var errors = new List<ArmErrorDetail>();
        if (!ArmNames.IsHostName(name))
            errors.Add(Invalid($"The host name '{name}' is not valid: 1 to 63 letters, digits, '-' or '.', starting with a letter or digit.", "name"));
        if (registration.VCpus is not (>= 1 and <= 4096))
            errors.Add(Invalid("vCpus must be 1 to 4096.", "vCpus"));
        if (registration.MemoryInMB is not (>= 128 and <= 64 * 1024 * 1024))
            errors.Add(Invalid("memoryInMB must be 128 to 67108864.", "memoryInMB"));
        if (!Enum.TryParse(registration.Accelerator, ignoreCase: true, out HostAccelerator accelerator) || int.TryParse(registration.Accelerator, out _))
            errors.Add(Invalid($"The accelerator '{registration.Accelerator}' is not valid: use kvm or tcg.", "accelerator"));
        if (errors.Count > 0)
            return ArmFailure.FromViolations(ArmErrors.BadRequest, errors);

        DateTimeOffset now = time.GetUtcNow();
        HostRecord? existing = await hosts.GetAsync(name, cancellationToken);
        var host = new HostRecord
        {
            Name = existing?.Name ?? name,
            VCpus = registration.VCpus!.Value,
            MemoryInMB = registration.MemoryInMB!.Value,
            Accelerator = accelerator,
            AgentVersion = registration.AgentVersion,
            RegisteredAt = existing?.RegisteredAt ?? now,
            LastSeenAt = now,
        };
        await hosts.SaveAsync(host, cancellationToken);
        await PlaceWaitingAsync(cancellationToken);
        return ArmResult.Ok<HostView>(await ViewAsync(host, cancellationToken));
    }

    public async Task<IReadOnlyList<HostView>> ListAsync(CancellationToken cancellationToken)
    {
        var views = new List<HostView>();
        foreach (HostRecord host in await hosts.ListAsync(cancellationToken))
            views.Add(await ViewAsync(host, cancellationToken));
        return views;
    }

    /// <summary>
    /// The desired state of the host's VMs: at once when it differs from <paramref name="token"/> (or no token is
    /// given), else when it changes, after <paramref name="timeout"/>, or when <paramref name="endWaitEarly"/> is
    /// cancelled (the service stopping: a waiting poll must not hold its shutdown). Each poll also counts as a heartbeat.
    /// </summary>
    public async Task<ArmResult<HostAssignments>> GetAssignmentsAsync(string name, string? token, TimeSpan timeout, CancellationToken endWaitEarly,
        CancellationToken cancellationToken)
    {
        HostRecord? host = await hosts.GetAsync(name, cancellationToken);
        if (host is null)
            return UnknownHost(name);
        await hosts.TouchAsync(host.Name, time.GetUtcNow(), cancellationToken);
        await PlaceWaitingAsync(cancellationToken);
        Task changed = signals.NextAsync(host.Name);
        HostAssignments assignments = await AssignmentsAsync(host.Name, cancellationToken);
        if (token is null || assignments.Token != token || timeout <= TimeSpan.Zero || endWaitEarly.IsCancellationRequested)
            return ArmResult.Ok<HostAssignments>(assignments);
        TimeSpan wait = timeout < options.MaxLongPoll ? timeout : options.MaxLongPoll;
        using (var waitEnds = CancellationTokenSource.CreateLinkedTokenSource(endWaitEarly, cancellationToken))
        {
            // Served by the replica holding the host's poll claim; the others wait for it to pass (HostPollWait).
            await pollWait.WaitAsync(host.Name, changed, time.GetUtcNow() + wait,
                async () => (await AssignmentsAsync(host.Name, cancellationToken)).Token == token, waitEnds.Token, cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
        await hosts.TouchAsync(host.Name, time.GetUtcNow(), cancellationToken);
        return ArmResult.Ok<HostAssignments>(await AssignmentsAsync(host.Name, cancellationToken));
    }

    /// <summary>Applies a host's report: power states, boot verdicts, completed or failed operations, deletions.</summary>
    public async Task<ArmResult<HostReportResult>> ReportAsync(string name, HostReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        HostRecord? host = await hosts.GetAsync(name, cancellationToken);
        if (host is null)
            return UnknownHost(name);
        IReadOnlyList<VmReport> entries = report.VirtualMachines ?? [];
        var errors = new List<ArmErrorDetail>();
        for (int i = 0; i < entries.Count; i++)
        {
            if (entries[i] is null)
                errors.Add(Invalid("A report entry is null.", $"virtualMachines[{i}]"));
            else if (!entries[i].Deleted && !TryPower(entries[i].PowerState, out _))
                errors.Add(Invalid($"The power state '{entries[i].PowerState}' is not valid: Starting, Running, Stopping, Stopped, Deallocating or Deallocated.",
                    string.Create(CultureInfo.InvariantCulture, $"virtualMachines[{i}].powerState")));
        }

        if (errors.Count > 0)
            return ArmFailure.FromViolations(ArmErrors.BadRequest, errors);
        DateTimeOffset now = time.GetUtcNow();
        await hosts.TouchAsync(host.Name, now, cancellationToken);
        int applied = 0;
        var unknown = new List<Guid>();
        foreach (VmReport entry in entries)
        {
            if (await ApplyAsync(host.Name, entry, now, cancellationToken))
                applied++;
            else
                unknown.Add(entry.VmId);
        }

        foreach (SnapshotReport snapshot in report.Snapshots ?? [])
        {
            if (snapshot is not null && await snapshots.ApplyReportAsync(host.Name, snapshot, cancellationToken))
                applied++;
        }

        foreach (DiskReport disk in report.Disks ?? [])
        {
            if (disk is not null && await disks.ApplyReportAsync(host.Name, disk, cancellationToken))
                applied++;
        }

        return ArmResult.Ok<HostReportResult>(new HostReportResult(applied, unknown));
    }

    /// <summary>
    /// Places the VMs that wait for a host (created while none was alive), oldest first. One that no live host has
    /// room for fails its creation with <c>AllocationFailed</c> (the VM stays, Failed, as in Azure, until deleted or PUT again).
    /// </summary>
    public async Task PlaceWaitingAsync(CancellationToken cancellationToken)
    {
        foreach (VirtualMachineRecord vm in await machines.ListUnplacedAsync(cancellationToken))
        {
            PlacedWrite written = await placement.WriteAsync(new VirtualMachineWrite { Key = vm.Key, Record = vm, ExpectedSequence = vm.ChangeSequence }, cancellationToken);
            if (written.Outcome == PlacementOutcome.Written && written.Record?.HostName is string placed)
                signals.Notify(placed);
            else if (written.Outcome == PlacementOutcome.NoCapacity)
                await FailAllocationAsync(vm, cancellationToken);
        }
    }

    private async Task FailAllocationAsync(VirtualMachineRecord vm, CancellationToken cancellationToken)
    {
        DateTimeOffset now = time.GetUtcNow();
        OperationRecord? pending = vm.PendingOperationId is string id ? await operations.GetAsync(id, cancellationToken) : null;
        ArmErrorDetail error = ArmErrors.AllocationFailed();
        await machines.WriteAsync(new VirtualMachineWrite
        {
            Key = vm.Key,
            Record = vm with
            {
                ProvisioningState = ProvisioningState.Failed,
                PendingOperationId = null,
                LastReport = new VmHostReport { ReportedAt = now, Error = error },
            },
            ExpectedSequence = vm.ChangeSequence,
            Operations = pending is { Status: OperationStatus.InProgress } ? [pending.Complete(OperationStatus.Failed, now, error)] : [],
        }, cancellationToken);
    }

    private async Task<bool> ApplyAsync(string hostName, VmReport entry, DateTimeOffset now, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            VirtualMachineRecord? vm = await machines.GetByVmIdAsync(entry.VmId, cancellationToken);
            if (vm is null || !string.Equals(vm.HostName, hostName, StringComparison.OrdinalIgnoreCase))
                return false;
            OperationRecord? pending = vm.PendingOperationId is string id && await operations.GetAsync(id, cancellationToken) is { Status: OperationStatus.InProgress } p
                ? p
                : null;
            bool current = entry.ObservedVersion >= vm.Version;
            VirtualMachineWrite write;
            if (entry.Deleted)
            {
                if (vm.ProvisioningState != ProvisioningState.Deleting)
                    return true; // a host may only remove a VM it was told to delete; a stray report changes nothing
                OperationRecord? canceledUpdate = await keyUpdates.CancelForDeletionAsync(vm, now, cancellationToken);
                write = new VirtualMachineWrite
                {
                    Key = vm.Key, Record = null, ExpectedSequence = vm.ChangeSequence,
                    // Its OS disk goes too (deleteOption Delete), or stays Unattached on this host with its guest state (Detach).
                    OsDisk = Disks.OsDisks.OnRemoval(vm, await diskRows.GetByManagerAsync(vm.VmId, cancellationToken),
                        groupDeleting: await GroupDeletingAsync(vm, cancellationToken)),
                    Operations = [.. pending is null ? [] : new[] { pending.Complete(OperationStatus.Succeeded, now) }, .. canceledUpdate is null ? [] : new[] { canceledUpdate }],
                };
            }
            else
            {
                _ = TryPower(entry.PowerState, out PowerState power);
                VirtualMachineRecord next = await restores.RecordRestoredAsync(vm, entry.RestoredVersion, cancellationToken) with
                {
                    ActualPower = power,
                    LastReport = new VmHostReport
                    {
                        ReportedAt = now,
                        BootVerdict = entry.BootVerdict ?? vm.LastReport?.BootVerdict,
                        BootVerdictDetail = entry.BootVerdict is null ? vm.LastReport?.BootVerdictDetail : entry.BootVerdictDetail,
                        ConsoleTail = entry.ConsoleTail ?? vm.LastReport?.ConsoleTail,
                        Error = current ? entry.Error : vm.LastReport?.Error,
                        VTpmKeys = entry.VTpmKeys ?? vm.LastReport?.VTpmKeys,
                    },
                };
                OperationRecord? completed = null;
                if (current && entry.Error is not null && vm.ProvisioningState != ProvisioningState.Deleting)
                {
                    next = next with { ProvisioningState = ProvisioningState.Failed, PendingOperationId = null };
                    completed = pending?.Complete(OperationStatus.Failed, now, entry.Error);
                }
                else if (current && power == VirtualMachineLifecycle.Reported(vm.DesiredPower) && vm.ProvisioningState != ProvisioningState.Deleting)
                {
                    next = next with { ProvisioningState = ProvisioningState.Succeeded, PendingOperationId = null };
                    completed = pending?.Complete(OperationStatus.Succeeded, now);
                }

                List<OperationRecord> done = completed is null ? [] : [completed];
                if (entry.SecureBootKeyUpdate is SecureBootKeyUpdateReport keyUpdate
                    && await keyUpdates.ApplyReportAsync(next, keyUpdate, now, cancellationToken) is var (withKeys, keyOperation))
                {
                    next = withKeys;
                    if (keyOperation is not null)
                        done.Add(keyOperation);
                }

                write = new VirtualMachineWrite { Key = vm.Key, Record = next, ExpectedSequence = vm.ChangeSequence, Operations = done };
            }

            if (await machines.WriteAsync(write, cancellationToken) == WriteOutcome.Written)
            {
                if (write.Record is null)
                {
                    await enrollment.WithdrawAsync(vm.VmId, cancellationToken);
                    await nics.ReleaseAsync(vm, cancellationToken);
                }

                return true;
            }
        }

        return false;
    }

    private async Task<HostAssignments> AssignmentsAsync(string hostName, CancellationToken cancellationToken)
    {
        // A VM another manager runs (a libvirt domain this host attests) is never the host's to create, start or stop: only to attest.
        IReadOnlyList<VirtualMachineRecord> all = await machines.ListByHostAsync(hostName, cancellationToken);
        IReadOnlyList<VirtualMachineRecord> vms = [.. all.Where(v => LibvirtDomainService.External(v) is null)];
        IReadOnlyList<LibvirtDomainAssignment> domains = [.. all.Where(v => LibvirtDomainService.External(v) is not null)
            .Select(v => new LibvirtDomainAssignment { VmId = v.VmId, DomainName = v.Name, AttestationGeneration = v.AttestationGeneration })];
        var assignments = new List<VmAssignment>(vms.Count);
        IReadOnlyDictionary<Guid, IReadOnlyList<VmNetworkInterfaceSpec>> nics = await network.PlanAsync(vms, cancellationToken);
        foreach (VirtualMachineRecord vm in vms)
            assignments.Add(await AssignmentAsync(vm, nics[vm.VmId], cancellationToken));
        long newest = vms.Count == 0 ? 0 : vms.Max(v => v.ChangeSequence);
        IReadOnlyList<SnapshotAssignment> kept = await snapshots.AssignmentsAsync(hostName, cancellationToken);
        IReadOnlyList<DiskAssignment> detached = await disks.AssignmentsAsync(hostName, cancellationToken);
        return new HostAssignments
        {
            Host = hostName,
            Token = string.Create(CultureInfo.InvariantCulture,
                $"{newest}.{vms.Count}{SnapshotsToken(kept)}{DisksToken(detached)}{DomainsToken(domains)}{HostNetworkPlanner.Token(nics)}"),
            VirtualMachines = assignments,
            Snapshots = kept,
            Disks = detached,
            LibvirtDomains = domains,
        };
    }

    // The snapshots' part of the long-poll token: a digest of which snapshots the host keeps and in which state.
    private static string SnapshotsToken(IReadOnlyList<SnapshotAssignment> kept)
    {
        if (kept.Count == 0)
            return "";
        string all = string.Join(',', kept.Select(k => $"{k.SnapshotId:N}{k.DesiredState[0]}"));
        return "." + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(all)).AsSpan(0, 8));
    }

    // The disks' part of the long-poll token: which Unattached disks the host keeps and in which state.
    private static string DisksToken(IReadOnlyList<DiskAssignment> kept)
    {
        if (kept.Count == 0)
            return "";
        string all = string.Join(',', kept.Select(k => $"{k.DiskId:N}{k.DesiredState[0]}"));
        return ".d" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(all)).AsSpan(0, 8));
    }

    // The libvirt domains' part of the long-poll token: which domains the host attests and their attestation generations.
    private static string DomainsToken(IReadOnlyList<LibvirtDomainAssignment> domains)
    {
        if (domains.Count == 0)
            return "";
        string all = string.Join(',', domains.OrderBy(d => d.VmId).Select(d => string.Create(CultureInfo.InvariantCulture, $"{d.VmId:N}:{d.AttestationGeneration}")));
        return ".l" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(all)).AsSpan(0, 8));
    }

    private async Task<VmAssignment> AssignmentAsync(VirtualMachineRecord vm, IReadOnlyList<VmNetworkInterfaceSpec> nics, CancellationToken cancellationToken)
    {
        VirtualMachineProperties properties = vm.Model.Properties;
        ImageReference image = properties.StorageProfile!.ImageReference!;
        ImageEntry? entry = await images.FindExactAsync(image, cancellationToken);
        UefiSettings? uefi = properties.SecurityProfile?.UefiSettings;
        OSDisk osDisk = properties.StorageProfile.OsDisk!;
        Disks.DiskRecord? disk = await diskRows.GetByManagerAsync(vm.VmId, cancellationToken);
        return new VmAssignment
        {
            VmId = vm.VmId,
            ResourceId = vm.ResourceId,
            Name = vm.Name,
            Version = vm.Version,
            DesiredPowerState = vm.ProvisioningState == ProvisioningState.Deleting ? "Deleted" : vm.DesiredPower.ToString(),
            RestartGeneration = vm.RestartGeneration,
            AttestationGeneration = vm.AttestationGeneration,
            SecureBootKeyUpdate = SecureBootKeyUpdates.Assignment(vm),
            Spec = new VmRuntimeSpec
            {
                VmSize = properties.HardwareProfile!.VmSize!,
                VCpus = vm.VCpus,
                MemoryInMB = vm.MemoryInMB,
                HyperVGeneration = vm.Generation.ToString(),
                ImageUrn = $"{image.Publisher}:{image.Offer}:{image.Sku}:{image.ExactVersion}",
                ImagePath = entry?.FilePath,
                SecurityType = properties.SecurityProfile?.SecurityType ?? VmPlanner.Standard,
                SecureBootEnabled = uefi?.SecureBootEnabled ?? false,
                VTpmEnabled = uefi?.VTpmEnabled ?? false,
                Extensions = properties.TrustedLaunchExtensions ?? new TrustedLaunchExtensions { NestedVirtualizationEnabled = false },
                ComputerName = properties.OSProfile?.ComputerName ?? vm.Name,
                OsDiskName = osDisk.Name!,
                // Fixed once the VM is Deleting (Delete when its resource group's deletion deletes it): the removal reads the same value.
                OsDiskDeleteOption = osDisk.DeleteOption ?? "Detach",
                OsDiskId = disk?.DiskId,
                AttachDetachedDisk = disk is not null && !Disks.OsDisks.MadeWith(disk, vm),
                OsDiskSizeGB = osDisk.DiskSizeGB,
                DataDisks = properties.StorageProfile.DataDisks ?? [],
                // A disk made with the VM from a snapshot names it as its source (the VM's model names the disk).
                SourceSnapshotId = disk is { SourceResourceId: string source } && Disks.OsDisks.MadeWith(disk, vm)
                    ? (await snapshots.FindAsync(source, cancellationToken))?.SnapshotId
                    : null,
                RestoreSnapshotId = vm.Model.Restore?.SnapshotId,
                RestoreVersion = vm.Model.Restore?.Version,
                NetworkInterfaces = nics,
            },
        };
    }

    private async Task<HostView> ViewAsync(HostRecord host, CancellationToken cancellationToken)
    {
        IReadOnlyList<VirtualMachineRecord> vms = await machines.ListByHostAsync(host.Name, cancellationToken);
        IEnumerable<VirtualMachineRecord> allocated = vms.Where(v => v.DesiredPower != DesiredPowerState.Deallocated);
        return new HostView
        {
            Name = host.Name,
            VCpus = host.VCpus,
            MemoryInMB = host.MemoryInMB,
            Accelerator = host.Accelerator.ToString().ToLowerInvariant(),
            AgentVersion = host.AgentVersion,
            RegisteredAt = host.RegisteredAt,
            LastSeenAt = host.LastSeenAt,
            Alive = placement.IsAlive(host),
            AllocatedVCpus = allocated.Sum(v => v.VCpus),
            AllocatedMemoryInMB = allocated.Sum(v => v.MemoryInMB),
            VirtualMachines = vms.Count,
            LivenessWindowSeconds = (int)Math.Ceiling(options.HostLivenessWindow.TotalSeconds),
        };
    }

    private async Task<bool> GroupDeletingAsync(VirtualMachineRecord vm, CancellationToken cancellationToken) =>
        await groups.GetAsync(vm.SubscriptionId, vm.ResourceGroup, cancellationToken) is { State: ResourceGroupState.Deleting };

    private static bool TryPower(string? text, out PowerState power) =>
        Enum.TryParse(text, ignoreCase: true, out power) && power != PowerState.Unknown && !int.TryParse(text, out _);

    private static ArmFailure UnknownHost(string name) =>
        ArmErrors.Fail(ArmErrors.NotFound, "HostNotFound", $"No host is registered as '{name}' (PUT /v1/hosts/{name} registers it).");

    private static ArmErrorDetail Invalid(string message, string target) => new() { Code = "InvalidParameter", Message = message, Target = target };
}
