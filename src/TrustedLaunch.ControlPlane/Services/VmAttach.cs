using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Snapshots;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.ControlPlane.Services;

/// <summary>
/// A new VM whose OS disk is attached from a snapshot (<c>storageProfile.osDisk.createOption: Attach</c>,
/// <c>managedDisk.id</c> = the snapshot): the snapshot must be Succeeded and of the same security type as the VM, and the
/// VM takes the snapshot's image (its disk is an overlay on it) and, unless the request says, its security type. Its host
/// makes a new identity (new vTPM, new EK and AK) with the snapshot's disk and UEFI variables.
/// </summary>
internal static class VmAttach
{
    private const string Target = "properties.storageProfile.osDisk.managedDisk.id";

    public static bool IsAttach(VirtualMachineResource request) =>
        string.Equals(request.Properties?.StorageProfile?.OsDisk?.CreateOption, "Attach", StringComparison.OrdinalIgnoreCase);

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
