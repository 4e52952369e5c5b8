using System.Globalization;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;

namespace TrustedLaunch.ControlPlane.Snapshots;

/// <summary>A snapshot record as ARM answers it.</summary>
public static class SnapshotViews
{
    public static SnapshotResource Resource(SnapshotRecord snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        long? bytes = snapshot.DiskSizeBytes;
        return new SnapshotResource
        {
            Id = snapshot.ResourceId,
            Name = snapshot.Name,
            Type = ResourceIds.SnapshotType,
            Location = snapshot.Location,
            Tags = snapshot.Tags ?? new Dictionary<string, string>(),
            Sku = new SnapshotSku { Name = snapshot.SkuName ?? "Standard_LRS", Tier = snapshot.SkuName is "Premium_LRS" ? "Premium" : "Standard" },
            Properties = new SnapshotProperties
            {
                OsType = "Linux",
                HyperVGeneration = snapshot.Generation.ToString(),
                CreationData = new CreationData
                {
                    CreateOption = SnapshotService.Copy,
                    SourceResourceId = snapshot.SourceResourceId,
                    SourceUniqueId = snapshot.SourceVmId.ToString(),
                },
                DiskSizeGB = snapshot.DiskSizeGB ?? (bytes is long b ? (int)Math.Max(1, (b + (1L << 30) - 1) >> 30) : null),
                DiskSizeBytes = bytes,
                UniqueId = snapshot.SnapshotId.ToString(),
                Incremental = false,
                // A Standard disk reads back without a security type, as in Azure.
                SecurityProfile = snapshot.SecurityType == VmPlanner.TrustedLaunch ? new DiskSecurityProfile { SecurityType = VmPlanner.TrustedLaunch } : null,
                ProvisioningState = snapshot.ProvisioningState.ToString(),
                TimeCreated = snapshot.TimeCreated,
                TrustedLaunchSnapshot = new TrustedLaunchSnapshot
                {
                    SourceVirtualMachineId = snapshot.SourceVirtualMachineId,
                    SourceVmId = snapshot.SourceVmId.ToString(),
                    HostName = snapshot.HostName,
                    GuestStateIncluded = snapshot.GuestStateIncluded,
                    VmgsSha256 = snapshot.VmgsSha256,
                },
            },
        };
    }

    public static string Etag(SnapshotRecord snapshot) => string.Create(CultureInfo.InvariantCulture, $"\"{snapshot.Version}\"");
}
