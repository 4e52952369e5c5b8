using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Disks;

/// <summary>
/// <c>PUT /v1/hosts/{host}/restoredDisks/{diskId}</c>: a host that restored a backup archive (<c>tl backup restore --disk</c>) into
/// <c>TL_HOME/detached/&lt;diskName&gt;-&lt;diskId:N&gt;</c> tells the control plane, which lands it as an Unattached
/// <c>Microsoft.Compute/disks</c> resource on that host (<c>creationData.createOption: Restore</c>); <c>tl vm create --attach-os-disk</c>
/// then brings it up as a VM with the backed-up vTPM.
/// </summary>
public sealed record RestoredDiskRegistration
{
    public string? DiskName { get; init; }

    /// <summary>Where the disk resource goes; the default subscription when absent. The resource group must exist and grant the host (<see cref="HostGrants"/>).</summary>
    public string? SubscriptionId { get; init; }

    public string? ResourceGroup { get; init; }

    /// <summary>The archive's header: its backup id, the VM it was taken of and when.</summary>
    public Guid? BackupId { get; init; }

    public Guid? SourceVmId { get; init; }

    public DateTimeOffset? BackupCreatedAt { get; init; }

    /// <summary>The image file the restored qcow2 overlay is based on (its backing file): a registered image's file.</summary>
    public string? BackingFile { get; init; }

    /// <summary>The restored VMGS holds a vTPM (TrustedLaunch) or not (Standard); absent: no VMGS at all (Generation 1).</summary>
    public bool? VTpm { get; init; }

    public bool? GuestStateIncluded { get; init; }

    /// <summary>The serial number (hex) of the restored vTPM's EK certificate, as its VMGS identity entry records it.</summary>
    public string? EkCertificateSerial { get; init; }

    public int? DiskSizeGB { get; init; }
}

/// <summary>
/// Lands a host's restored backup as an Unattached disk, <b>keeping the vTPM identity</b> (the same EK; a VM that attaches it gets its AK
/// certified again for its new vmId) — and refuses, with <c>VTpmIdentityInUse</c> naming the holder, when that identity still lives in
/// the control plane: the backed-up VM itself, another VM whose vTPM reported the same EK certificate, or a disk detached from that VM.
/// Two resources never hold one EK; a copy beside a living original is a snapshot's new VM (a new identity), not a restore.
/// </summary>
public sealed class RestoredDiskService(
    IHostStore hosts,
    ISubscriptionStore subscriptions,
    IResourceGroupStore groups,
    IVirtualMachineStore machines,
    IDiskStore disks,
    IImageStore images,
    TimeProvider time)
{
    public const string CreateOption = "Restore";

    public async Task<ArmResult<DiskRecord>> RegisterAsync(string hostName, string diskId, RestoredDiskRegistration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        if (await hosts.GetAsync(hostName, cancellationToken) is not HostRecord host)
            return ArmErrors.Fail(ArmErrors.NotFound, "HostNotFound", $"No host is registered as '{hostName}' (PUT /v1/hosts/{hostName} registers it).");
        if (Check(diskId, registration) is ArmFailure invalid)
            return invalid;
        Guid id = Guid.Parse(diskId);
        string subscriptionId = registration.SubscriptionId ?? (await subscriptions.EnsureDefaultAsync(time.GetUtcNow(), cancellationToken)).SubscriptionId;
        ResourceGroupRecord? group = await groups.GetAsync(subscriptionId, registration.ResourceGroup!, cancellationToken);
        if (group is null)
            return ArmErrors.ResourceGroupNotFound(registration.ResourceGroup!);
        if (group.State == ResourceGroupState.Deleting)
            return ArmErrors.ResourceGroupBeingDeleted(group.Name);
        if (HostGrants.Check(group, host.Name, "Microsoft.Compute/disks/write") is ArmFailure forbidden)
            return forbidden;
        var key = new DiskKey(subscriptionId, group.Name, registration.DiskName!);
        if (await disks.GetByIdAsync(id, cancellationToken) is DiskRecord same)
        {
            // The same restore told again (a retry): the same disk on the same host is the answer; anything else is another disk.
            return same.RestoredFrom?.BackupId == registration.BackupId && same.Key.NameKey == key.NameKey
                && string.Equals(same.HostName, host.Name, StringComparison.OrdinalIgnoreCase)
                ? ArmResult.Ok(same)
                : ArmErrors.Fail(ArmErrors.Conflict, "Conflict", $"Disk id {id} is already {same.ResourceId}.");
        }

        if (await disks.GetAsync(key, cancellationToken) is DiskRecord taken)
            return ArmErrors.Fail(ArmErrors.Conflict, "Conflict", $"{taken.ResourceId} exists: pick another name for the restored disk (tl backup restore --disk NAME).", "diskName");
        if (await IdentityHolderAsync(registration, cancellationToken) is string holder)
            return IdentityInUse(registration.SourceVmId!.Value, holder);
        ImageEntry? image = (await images.ListAllAsync(cancellationToken))
            .FirstOrDefault(e => string.Equals(e.FilePath, registration.BackingFile, StringComparison.Ordinal));
        if (image is null)
        {
            return ArmErrors.InvalidParameter(
                $"The restored OS disk is based on '{registration.BackingFile}', which is no registered image's file (tl image register): a VM could not run it.",
                "backingFile");
        }

        DiskRecord record = Record(key, id, group.Location, host.Name, image, registration);
        WriteOutcome outcome = await disks.WriteAsync(new DiskWrite { Key = key, Record = record, ExpectedVersion = null }, cancellationToken);
        return outcome switch
        {
            WriteOutcome.Written => ArmResult.Ok(record),
            WriteOutcome.ResourceGroupMissing => ArmErrors.ResourceGroupNotFound(group.Name),
            WriteOutcome.ResourceGroupDeleting => ArmErrors.ResourceGroupBeingDeleted(group.Name),
            _ => ArmErrors.Fail(ArmErrors.Conflict, "Conflict", $"{record.ResourceId} was created meanwhile: pick another name for the restored disk.", "diskName"),
        };
    }

    /// <summary>Azure's refusal words do not exist for this case: ours, naming the holder and the way out.</summary>
    public static ArmFailure IdentityInUse(Guid sourceVmId, string holder) => ArmErrors.Fail(ArmErrors.Conflict, "VTpmIdentityInUse",
        $"The backup of VM {sourceVmId} holds a vTPM whose identity (EK) is still {holder}: a restore keeps that identity, and two resources never " +
        "share one EK. Delete that resource first (a restore after loss), or create a new VM from a snapshot of it (a new identity).");

    // Where the backed-up vTPM lives on: the VM itself, a VM that reported the same EK certificate (one that attached its disk), or its detached disk.
    private async Task<string?> IdentityHolderAsync(RestoredDiskRegistration registration, CancellationToken cancellationToken)
    {
        Guid source = registration.SourceVmId!.Value;
        if (await machines.GetByVmIdAsync(source, cancellationToken) is VirtualMachineRecord original)
            return $"VM {original.ResourceId} (vmId {source})";
        foreach (SubscriptionRecord subscription in await subscriptions.ListAsync(cancellationToken))
        {
            foreach (DiskRecord disk in await disks.ListAsync(subscription.SubscriptionId, null, cancellationToken))
            {
                if (disk.LastVmId == source)
                    return $"disk {disk.ResourceId} ({disk.State}; detached from vmId {source})";
            }

            if (registration.EkCertificateSerial is not string serial)
                continue;
            string? page = null;
            do
            {
                Page<VirtualMachineRecord> vms = await machines.ListAsync(subscription.SubscriptionId, null, page, 200, cancellationToken);
                if (vms.Items.FirstOrDefault(vm => HasEk(vm, serial)) is VirtualMachineRecord holder)
                    return $"VM {holder.ResourceId} (vmId {holder.VmId}, the same EK certificate {serial})";
                page = vms.ContinuationToken;
            }
            while (page is not null);
        }

        return null;
    }

    private static bool HasEk(VirtualMachineRecord vm, string serial)
    {
        foreach (VTpmKeyReport key in vm.LastReport?.VTpmKeys ?? [])
        {
            if (!key.Role.StartsWith("ek", StringComparison.Ordinal) || key.CertificatePem is not string pem)
                continue;
            try
            {
                using X509Certificate2 certificate = X509Certificate2.CreateFromPem(pem);
                if (string.Equals(certificate.SerialNumber, serial, StringComparison.OrdinalIgnoreCase))
                    return true;
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                // A report whose certificate does not parse names no EK to compare.
            }
        }

        return false;
    }

    private static ArmFailure? Check(string diskId, RestoredDiskRegistration sent)
    {
        var errors = new List<ArmErrorDetail>();
        if (!Guid.TryParse(diskId, out Guid id) || id == Guid.Empty)
            errors.Add(Invalid($"'{diskId}' is not a disk id (a GUID: the disk's uniqueId and its folder's name on the host).", "diskId"));
        if (string.IsNullOrEmpty(sent.DiskName) || ArmNames.CheckVirtualMachine(sent.DiskName) is not null)
            errors.Add(Invalid($"The disk name '{sent.DiskName}' is not valid (1-64 letters, digits, '-', '_' or '.').", "diskName"));
        if (string.IsNullOrEmpty(sent.ResourceGroup) || ArmNames.CheckResourceGroup(sent.ResourceGroup) is not null)
            errors.Add(Invalid("resourceGroup must name an existing resource group.", "resourceGroup"));
        if (sent.BackupId is null || sent.SourceVmId is null || sent.BackupCreatedAt is null)
            errors.Add(Invalid("backupId, sourceVmId and backupCreatedAt are required: the archive's header.", "backupId"));
        if (string.IsNullOrEmpty(sent.BackingFile))
            errors.Add(Invalid("backingFile is required: the image file the restored OS disk is an overlay on.", "backingFile"));
        if (sent.VTpm == true && sent.GuestStateIncluded != true)
            errors.Add(Invalid("A vTPM lives in the VM guest state: vTpm needs guestStateIncluded.", "vTpm"));
        if (sent.VTpm == true && string.IsNullOrEmpty(sent.EkCertificateSerial))
            errors.Add(Invalid("ekCertificateSerial is required with a vTPM: the EK certificate's serial, as the VMGS identity entry records it.", "ekCertificateSerial"));
        return errors.Count > 0 ? ArmFailure.FromViolations(ArmErrors.BadRequest, errors) : null;
    }

    private DiskRecord Record(DiskKey key, Guid diskId, string location, string hostName, ImageEntry image, RestoredDiskRegistration sent) => new()
    {
        SubscriptionId = key.SubscriptionId,
        ResourceGroup = key.ResourceGroup,
        Name = key.Name,
        DiskId = diskId,
        Location = location,
        Version = 1,
        ProvisioningState = ProvisioningState.Succeeded,
        TimeCreated = time.GetUtcNow(),
        State = DiskState.Unattached,
        HostName = hostName,
        LastVmId = sent.SourceVmId!.Value,
        SecurityType = sent.VTpm == true ? VmPlanner.TrustedLaunch : VmPlanner.Standard,
        Generation = sent.GuestStateIncluded == true ? HyperVGeneration.V2 : HyperVGeneration.V1,
        ImageReference = new ImageReference
        {
            Publisher = image.Publisher, Offer = image.Offer, Sku = image.Sku, Version = image.Version.ToString(), ExactVersion = image.Version.ToString(),
        },
        DiskSizeGB = sent.DiskSizeGB,
        CreateOption = CreateOption,
        RestoredFrom = new DiskBackupSource(sent.BackupId!.Value, sent.SourceVmId!.Value, sent.BackupCreatedAt!.Value),
    };

    private static ArmErrorDetail Invalid(string message, string target) => new() { Code = "InvalidParameter", Message = message, Target = target };
}
