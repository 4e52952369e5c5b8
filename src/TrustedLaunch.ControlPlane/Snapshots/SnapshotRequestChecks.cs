using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;

namespace TrustedLaunch.ControlPlane.Snapshots;

/// <summary>A snapshot PUT's shape, every violation at once (ARM's <c>details</c>): location, creationData, tags.</summary>
public static class SnapshotRequestChecks
{
    public static IReadOnlyList<ArmErrorDetail> Check(SnapshotResource request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new List<ArmErrorDetail>();
        if (string.IsNullOrWhiteSpace(request.Location))
            errors.Add(new ArmErrorDetail { Code = "LocationRequired", Message = "The location property is required for this definition.", Target = "location" });
        CreationData? creation = request.Properties?.CreationData;
        if (creation is null)
        {
            errors.Add(Invalid("Required parameter 'creationData' is missing (null).", "properties.creationData"));
        }
        else
        {
            if (creation.CreateOption is not string option)
                errors.Add(Invalid("Required parameter 'createOption' is missing (null).", "properties.creationData.createOption"));
            else if (!option.Equals(SnapshotService.Copy, StringComparison.OrdinalIgnoreCase))
                errors.Add(Invalid($"The snapshot createOption '{option}' is not supported: this platform takes snapshots with createOption Copy, of a VM's OS disk and its VM guest state.",
                    "properties.creationData.createOption"));
            if (string.IsNullOrWhiteSpace(creation.SourceResourceId))
                errors.Add(Invalid("Required parameter 'sourceResourceId' is missing (null): the VM (or its OS disk) to copy.", "properties.creationData.sourceResourceId"));
        }

        if (request.Sku?.Name is string sku && sku is not ("Standard_LRS" or "Premium_LRS" or "Standard_ZRS"))
            errors.Add(Invalid($"The snapshot SKU '{sku}' is not valid: Standard_LRS, Premium_LRS or Standard_ZRS.", "sku.name"));
        if (request.Properties?.Incremental == true)
            errors.Add(Invalid("Incremental snapshots are not supported: each snapshot is a full copy of the OS disk overlay and the VMGS.", "properties.incremental"));
        errors.AddRange(ArmNames.CheckTags(request.Tags));
        return errors;
    }

    private static ArmErrorDetail Invalid(string message, string target) => new() { Code = "InvalidParameter", Message = message, Target = target };
}
