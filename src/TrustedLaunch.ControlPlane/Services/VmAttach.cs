using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Disks;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Snapshots;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Services;

/// <summary>
/// A new VM whose OS disk is attached from a snapshot (<c>storageProfile.osDisk.createOption: Attach</c>,
/// <c>managedDisk.id</c> = the snapshot): the snapshot must be Succeeded and of the same security type as the VM, and the
/// VM takes the snapshot's image (its disk is an overlay on it) and, unless the request says, its security type. Its host
/// makes a new identity (new vTPM, new EK and AK) with the snapshot's disk and UEFI variables.
/// Or the id of an Unattached disk (<c>Microsoft.Compute/disks</c>, left by a VM deleted with <c>deleteOption: Detach</c>): the VM
/// is placed on the disk's host and takes the disk and its guest state in place (the vTPM keeps its EK; its AK is certified again
/// for the new VM's id).
/// </summary>
internal static class VmAttach
{
    private const string Target = "properties.storageProfile.osDisk.managedDisk.id";

    public static bool IsAttach(VirtualMachineResource request) =>
        string.Equals(request.Properties?.StorageProfile?.OsDisk?.CreateOption, "Attach", StringComparison.OrdinalIgnoreCase);

    public static bool IsAttachOfDisk(VirtualMachineResource request) =>
        IsAttach(request) && ResourceIds.TryParseCompute(request.Properties?.StorageProfile?.OsDisk?.ManagedDisk?.Id, "disks", out _);

    /// <summary>The Unattached disk to attach: of this subscription, Succeeded, on a host that is registered and alive.</summary>
    public static async Task<ArmResult<DiskRecord>> FindDiskAsync(DiskService disks, IHostStore hosts, Placement placement, string subscriptionId,
        VirtualMachineResource request, CancellationToken cancellationToken)
    {
        string? id = request.Properties!.StorageProfile!.OsDisk!.ManagedDisk?.Id;
        if (!ResourceIds.TryParseCompute(id, "disks", out var name) || !name.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase))
            return ArmErrors.InvalidParameter("managedDisk.id must name a disk of this subscription (…/providers/Microsoft.Compute/disks/{name}).", Target);
        if (await disks.FindAsync(id, cancellationToken) is not DiskRecord disk)
            return ArmErrors.ResourceNotFound(ResourceIds.DiskType, name.Name, name.ResourceGroup);
        if (disk.State == DiskState.Attached)
            return DiskService.AttachedRefusal(disk, Target);
        if (disk.ProvisioningState != ProvisioningState.Succeeded)
            return ArmErrors.OperationNotAllowed($"The disk '{disk.Name}' is {disk.ProvisioningState}: only a Succeeded disk can be attached.", Target);
        HostRecord? host = disk.HostName is null ? null : await hosts.GetAsync(disk.HostName, cancellationToken);
        if (host is null || !placement.IsAlive(host))
        {
            return ArmErrors.Fail(ArmErrors.Conflict, "DiskHostUnavailable",
                $"The disk '{disk.Name}' cannot be attached now: its files (OS disk and VM guest state) are on host {disk.HostName ?? "(none)"}, which is " +
                $"{(host is null ? "not registered" : "lost (not heard from)")}; a disk's VM runs on the host that holds it.", Target);
        }

        return ArmResult.Ok(disk);
    }

    /// <summary>The request with the disk's name, image and security type filled in, or Azure's refusal of a security type that differs.</summary>
    public static ArmResult<VirtualMachineResource> Apply(VirtualMachineResource request, DiskRecord disk)
    {
        ArgumentNullException.ThrowIfNull(disk);
        VirtualMachineProperties properties = request.Properties!;
        StorageProfile storage = properties.StorageProfile!;
        string? asked = VmPlanner.Canonical(properties.SecurityProfile?.SecurityType);
        if (asked is not null && asked != disk.SecurityType)
        {
            return ArmErrors.Fail(ArmErrors.BadRequest, "BadRequest", "Security type of VM is not compatible with the security type of attached OS Disk.",
                "properties.securityProfile.securityType");
        }

        if (storage.ImageReference is not null)
        {
            return ArmErrors.InvalidParameter(
                "imageReference cannot be given with osDisk createOption Attach: the OS disk (and the image it is based on) is the attached disk.",
                "properties.storageProfile.imageReference");
        }

        OSDisk osDisk = storage.OsDisk!;
        if (osDisk.Name is string named && !named.Equals(disk.Name, StringComparison.OrdinalIgnoreCase))
            return ArmErrors.InvalidParameter($"osDisk.name '{named}' differs from the attached disk's name '{disk.Name}'.", "properties.storageProfile.osDisk.name");
        SecurityProfile security = (properties.SecurityProfile ?? new SecurityProfile()) with { SecurityType = disk.SecurityType };
        return ArmResult.Ok(request with
        {
            Properties = properties with
            {
                StorageProfile = storage with
                {
                    ImageReference = disk.ImageReference,
                    OsDisk = osDisk with { Name = disk.Name, DiskSizeGB = osDisk.DiskSizeGB ?? disk.DiskSizeGB },
                },
                SecurityProfile = security,
            },
        });
    }

    public static async Task<ArmResult<SnapshotRecord>> FindAsync(SnapshotService snapshots, string subscriptionId, VirtualMachineResource request,
        CancellationToken cancellationToken)
    {
        string? id = request.Properties!.StorageProfile!.OsDisk!.ManagedDisk?.Id;
        if (!ResourceIds.TryParseCompute(id, "snapshots", out var name) || !name.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase))
        {
            return ArmErrors.InvalidParameter(
                "createOption Attach needs managedDisk.id: the id of a snapshot of this subscription (…/providers/Microsoft.Compute/snapshots/{name}) " +
                "whose OS disk and guest state the VM starts from.", Target);
        }

        if (await snapshots.FindAsync(id, cancellationToken) is not SnapshotRecord snapshot)
            return ArmErrors.ResourceNotFound(ResourceIds.SnapshotType, name.Name, name.ResourceGroup);
        if (snapshot.ProvisioningState != ProvisioningState.Succeeded)
            return ArmErrors.OperationNotAllowed($"The snapshot '{snapshot.Name}' is {snapshot.ProvisioningState}: only a Succeeded snapshot can be attached.", Target);
        return ArmResult.Ok(snapshot);
    }

    /// <summary>The request with the snapshot's image and security type filled in, or Azure's refusal of a security type that differs.</summary>
    public static ArmResult<VirtualMachineResource> Apply(VirtualMachineResource request, SnapshotRecord snapshot)
    {
        VirtualMachineProperties properties = request.Properties!;
        StorageProfile storage = properties.StorageProfile!;
        string? asked = VmPlanner.Canonical(properties.SecurityProfile?.SecurityType);
        if (asked is not null && asked != snapshot.SecurityType)
        {
            return ArmErrors.Fail(ArmErrors.BadRequest, "BadRequest", "Security type of VM is not compatible with the security type of attached OS Disk.",
                "properties.securityProfile.securityType");
        }

        if (storage.ImageReference is not null)
        {
            return ArmErrors.InvalidParameter(
                "imageReference cannot be given with osDisk createOption Attach: the OS disk (and the image it is based on) comes from the snapshot.",
                "properties.storageProfile.imageReference");
        }

        SecurityProfile security = (properties.SecurityProfile ?? new SecurityProfile()) with { SecurityType = snapshot.SecurityType };
        return ArmResult.Ok(request with
        {
            Properties = properties with
            {
                StorageProfile = storage with { ImageReference = snapshot.ImageReference },
                SecurityProfile = security,
            },
        });
    }
}
