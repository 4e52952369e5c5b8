using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.ControlPlane.Disks;

/// <summary>
/// The disk row that goes with each change of a VM, written in the VM's own transaction
/// (<see cref="Stores.VirtualMachineWrite.OsDisk"/>): made Attached with a new VM, attached to a new VM, and at the VM's removal
/// deleted (<c>deleteOption: Delete</c>, or a VM never placed) or left Unattached on the VM's host (<c>Detach</c>).
/// </summary>
public static class OsDisks
{
    public const string Attached = "Attach";

    /// <summary>
    /// The OS disk of a new VM, Attached to it. Its <c>uniqueId</c> is the VM's <c>vmId</c>: with its name, the folder the host
    /// detaches it to (<c>TL_HOME/detached/&lt;name&gt;-&lt;uniqueId:N&gt;</c>, as hosts named it before disks were resources).
    /// </summary>
    public static DiskRecord ForNewVm(VirtualMachineRecord vm, string? sourceSnapshotId)
    {
        ArgumentNullException.ThrowIfNull(vm);
        OSDisk osDisk = vm.Model.Properties.StorageProfile!.OsDisk!;
        return new DiskRecord
        {
            SubscriptionId = vm.SubscriptionId,
            ResourceGroup = vm.ResourceGroup,
            Name = osDisk.Name!,
            DiskId = vm.VmId,
            Location = vm.Location,
            SkuName = osDisk.ManagedDisk?.StorageAccountType ?? "Premium_LRS",
            Version = 1,
            ProvisioningState = ProvisioningState.Succeeded,
            TimeCreated = vm.TimeCreated,
            State = DiskState.Attached,
            ManagedBy = vm.ResourceId,
            ManagedByVmId = vm.VmId,
            LastVmId = vm.VmId,
            SecurityType = vm.Model.Properties.SecurityProfile?.SecurityType ?? VmPlanner.Standard,
            Generation = vm.Generation,
            ImageReference = vm.Model.Properties.StorageProfile.ImageReference!,
            DiskSizeGB = osDisk.DiskSizeGB,
            CreateOption = sourceSnapshotId is null ? "FromImage" : "Copy",
            SourceResourceId = sourceSnapshotId,
        };
    }

    /// <summary>An Unattached disk taken by a new VM (compare-and-swap: of two VMs attaching it at once, one wins).</summary>
    public static DiskWrite Attach(DiskRecord disk, VirtualMachineRecord vm)
    {
        ArgumentNullException.ThrowIfNull(disk);
        ArgumentNullException.ThrowIfNull(vm);
        return new DiskWrite
        {
            Key = disk.Key,
            ExpectedVersion = disk.Version,
            Record = disk with
            {
                Version = disk.Version + 1, State = DiskState.Attached, ManagedBy = vm.ResourceId, ManagedByVmId = vm.VmId, HostName = null,
                LastVmId = vm.VmId, PendingOperationId = null,
            },
        };
    }

    /// <summary>
    /// What the removal of <paramref name="vm"/> does to its OS disk <paramref name="disk"/>, as the VM's model says and so as its host
    /// was told (the model's <c>deleteOption</c> is fixed once the VM is Deleting, <see cref="DeletedWithGroup"/>). Null when there is
    /// nothing to write. <paramref name="groupDeleting"/>: a disk the host detached goes on to be deleted through that host at once
    /// (its VM was deleted on its own just before its resource group), so its files never outlive its row nor the other way round.
    /// </summary>
    public static DiskWrite? OnRemoval(VirtualMachineRecord vm, DiskRecord? disk, bool groupDeleting = false)
    {
        ArgumentNullException.ThrowIfNull(vm);
        if (disk is null)
            return null;
        OSDisk? osDisk = vm.Model.Properties.StorageProfile?.OsDisk;
        bool kept = vm.HostName is not null && !string.Equals(osDisk?.DeleteOption, "Delete", StringComparison.OrdinalIgnoreCase);
        if (!kept)
            return new DiskWrite { Key = disk.Key, Record = null, ExpectedVersion = disk.Version };
        return new DiskWrite
        {
            Key = disk.Key,
            ExpectedVersion = disk.Version,
            Record = disk with
            {
                Version = disk.Version + 1, State = DiskState.Unattached, ManagedBy = null, ManagedByVmId = null, HostName = vm.HostName,
                LastVmId = vm.VmId, ProvisioningState = groupDeleting ? ProvisioningState.Deleting : disk.ProvisioningState, PendingOperationId = null,
            },
        };
    }

    /// <summary>
    /// The model of a VM its resource group's deletion deletes: its OS disk goes too (as Azure's group deletion deletes the group's
    /// disks). Written with the VM's Deleting state, so the host's assignment and the disk row's fate read one value.
    /// </summary>
    public static VirtualMachineModel DeletedWithGroup(VirtualMachineModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Properties.StorageProfile?.OsDisk is not OSDisk osDisk)
            return model;
        return model with
        {
            Properties = model.Properties with { StorageProfile = model.Properties.StorageProfile with { OsDisk = osDisk with { DeleteOption = "Delete" } } },
        };
    }

    /// <summary>Azure's refusal of a new VM whose OS disk name is a disk of the group already.</summary>
    public static ArmFailure NameTaken(string name, string resourceGroup) =>
        ArmErrors.Fail(ArmErrors.Conflict, "ConflictingUserInput",
            $"Disk {name} already exists in resource group {resourceGroup.ToUpperInvariant()}. Only CreateOption.Attach is supported.",
            "properties.storageProfile.osDisk.name");

    /// <summary><paramref name="model"/> with its OS disk's <c>managedDisk.id</c> set to <paramref name="diskId"/>.</summary>
    public static VirtualMachineModel WithManagedDiskId(VirtualMachineModel model, string diskId)
    {
        ArgumentNullException.ThrowIfNull(model);
        StorageProfile storage = model.Properties.StorageProfile!;
        OSDisk osDisk = storage.OsDisk!;
        return model with
        {
            Properties = model.Properties with
            {
                StorageProfile = storage with { OsDisk = osDisk with { ManagedDisk = (osDisk.ManagedDisk ?? new ManagedDiskParameters()) with { Id = diskId } } },
            },
        };
    }

    /// <summary>
    /// Whether <paramref name="disk"/> was made with <paramref name="vm"/> (its <c>uniqueId</c> is the VM's <c>vmId</c>) rather than
    /// attached to it from an Unattached disk another VM left.
    /// </summary>
    public static bool MadeWith(DiskRecord disk, VirtualMachineRecord vm)
    {
        ArgumentNullException.ThrowIfNull(disk);
        ArgumentNullException.ThrowIfNull(vm);
        return disk.DiskId == vm.VmId;
    }

    /// <summary>The id a VM's model gives its OS disk (<c>storageProfile.osDisk.managedDisk.id</c>).</summary>
    public static string ResourceId(VirtualMachineRecord vm) =>
        ResourceIds.Disk(vm.SubscriptionId, vm.ResourceGroup, vm.Model.Properties.StorageProfile!.OsDisk!.Name!);
}
