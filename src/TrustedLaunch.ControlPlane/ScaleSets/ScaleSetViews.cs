using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;

namespace TrustedLaunch.ControlPlane.ScaleSets;

/// <summary>Turns stored scale sets into ARM answers.</summary>
public static class ScaleSetViews
{
    /// <summary>The scale set as GET answers it; <paramref name="apiVersion"/> decides members that came with later versions.</summary>
    public static VirtualMachineScaleSetResource Resource(VirtualMachineScaleSetRecord scaleSet, string? apiVersion)
    {
        ArgumentNullException.ThrowIfNull(scaleSet);
        return new VirtualMachineScaleSetResource
        {
            Id = scaleSet.ResourceId,
            Name = scaleSet.Name,
            Type = ResourceIds.VirtualMachineScaleSetType,
            Location = scaleSet.Location,
            Tags = scaleSet.Model.Tags,
            Etag = EntityTags.Format(scaleSet.Version),
            Sku = scaleSet.Model.Sku,
            Properties = scaleSet.Model.Properties! with
            {
                ProvisioningState = scaleSet.ProvisioningState.ToString(),
                UniqueId = scaleSet.UniqueId.ToString(),
                TimeCreated = ApiVersions.AtLeast(apiVersion, ApiVersions.TimeCreatedSince) ? scaleSet.TimeCreated : null,
            },
        };
    }
}
