using System.Globalization;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;

namespace TrustedLaunch.ControlPlane.Disks;

/// <summary>A disk record as ARM answers it.</summary>
public static class DiskViews
{
    public static DiskResource Resource(DiskRecord disk)
    {
        ArgumentNullException.ThrowIfNull(disk);
        string sku = disk.SkuName ?? "Premium_LRS";
        return new DiskResource
        {
            Id = disk.ResourceId,
            Name = disk.Name,
            Type = ResourceIds.DiskType,
            Location = disk.Location,
            Tags = disk.Tags ?? new Dictionary<string, string>(),
            ManagedBy = disk.State == DiskState.Attached ? disk.ManagedBy : null,
            Sku = new SnapshotSku { Name = sku, Tier = sku.StartsWith("Premium", StringComparison.Ordinal) ? "Premium" : "Standard" },
            Properties = new DiskProperties
            {
                OsType = "Linux",
                HyperVGeneration = disk.Generation.ToString(),
                CreationData = new DiskCreationData
                {
                    CreateOption = disk.CreateOption,
                    ImageReference = disk.CreateOption == "FromImage" ? new DiskImageReference { Id = ImageId(disk) } : null,
                    SourceResourceId = disk.SourceResourceId,
                },
                DiskSizeGB = disk.DiskSizeGB,
                UniqueId = disk.DiskId.ToString(),
                DiskState = disk.State.ToString(),
                // A Standard disk reads back without a security type, as in Azure.
                SecurityProfile = disk.SecurityType == VmPlanner.TrustedLaunch ? new DiskSecurityProfile { SecurityType = VmPlanner.TrustedLaunch } : null,
                ProvisioningState = disk.ProvisioningState.ToString(),
                TimeCreated = disk.TimeCreated,
                TrustedLaunchDisk = new TrustedLaunchDisk
                {
                    HostName = disk.HostName,
                    LastVmId = disk.LastVmId.ToString(),
                    GuestStateIncluded = disk.Generation == HyperVGeneration.V2,
                    RestoredFromBackup = disk.RestoredFrom is DiskBackupSource backup
                        ? new RestoredFromBackup { BackupId = backup.BackupId.ToString(), SourceVmId = backup.SourceVmId.ToString(), TakenAt = backup.TakenAt }
                        : null,
                },
            },
        };
    }

    public static string Etag(DiskRecord disk) => string.Create(CultureInfo.InvariantCulture, $"\"{disk.Version}\"");

    // Azure's platform-image id as a disk's creationData names it.
    private static string ImageId(DiskRecord disk)
    {
        ImageReference image = disk.ImageReference;
        return $"/Subscriptions/{disk.SubscriptionId}/Providers/Microsoft.Compute/Locations/{disk.Location}/Publishers/{image.Publisher}" +
            $"/ArtifactTypes/VMImage/Offers/{image.Offer}/Skus/{image.Sku}/Versions/{image.ExactVersion ?? image.Version}";
    }
}
