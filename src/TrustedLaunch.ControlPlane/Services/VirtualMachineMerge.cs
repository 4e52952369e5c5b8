using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.ControlPlane.Services;

/// <summary>
/// An update (PUT of an existing VM, or PATCH) over the stored VM: members the request leaves out keep their value,
/// members it sends replace it (lists, such as dataDisks and tags, as a whole).
/// </summary>
internal static class VirtualMachineMerge
{
    public static VirtualMachineResource Merge(VirtualMachineRecord previous, VirtualMachineResource sent)
    {
        VirtualMachineProperties before = previous.Model.Properties;
        VirtualMachineProperties now = sent.Properties ?? new VirtualMachineProperties();
        StorageProfile? storageBefore = before.StorageProfile;
        StorageProfile? storageNow = now.StorageProfile;
        return sent with
        {
            Location = sent.Location ?? previous.Location,
            Tags = sent.Tags ?? previous.Model.Tags,
            Properties = new VirtualMachineProperties
            {
                HardwareProfile = new HardwareProfile { VmSize = now.HardwareProfile?.VmSize ?? before.HardwareProfile?.VmSize },
                StorageProfile = new StorageProfile
                {
                    ImageReference = storageNow?.ImageReference ?? storageBefore?.ImageReference,
                    OsDisk = OsDisk(storageNow?.OsDisk, storageBefore?.OsDisk),
                    DataDisks = storageNow?.DataDisks ?? storageBefore?.DataDisks,
                },
                SecurityProfile = new SecurityProfile
                {
                    SecurityType = now.SecurityProfile?.SecurityType ?? before.SecurityProfile?.SecurityType,
                    UefiSettings = now.SecurityProfile?.UefiSettings ?? before.SecurityProfile?.UefiSettings,
                    EncryptionAtHost = now.SecurityProfile?.EncryptionAtHost ?? before.SecurityProfile?.EncryptionAtHost,
                },
                AdditionalCapabilities = now.AdditionalCapabilities ?? before.AdditionalCapabilities,
                Host = now.Host ?? before.Host,
                HostGroup = now.HostGroup ?? before.HostGroup,
                OSProfile = new OSProfile
                {
                    ComputerName = now.OSProfile?.ComputerName ?? before.OSProfile?.ComputerName,
                    AdminUsername = now.OSProfile?.AdminUsername ?? before.OSProfile?.AdminUsername,
                },
                NetworkProfile = now.NetworkProfile ?? before.NetworkProfile,
                TrustedLaunchExtensions = Extensions(now.TrustedLaunchExtensions, before.TrustedLaunchExtensions),
            },
        };
    }

    private static OSDisk? OsDisk(OSDisk? now, OSDisk? before) => now is null ? before : before is null ? now : new OSDisk
    {
        Name = now.Name ?? before.Name,
        OsType = now.OsType ?? before.OsType,
        CreateOption = now.CreateOption ?? before.CreateOption,
        Caching = now.Caching ?? before.Caching,
        DiskSizeGB = now.DiskSizeGB ?? before.DiskSizeGB,
        DiffDiskSettings = now.DiffDiskSettings ?? before.DiffDiskSettings,
        // The OS disk a VM has is fixed at creation: a PUT sending the snapshot or disk it was made from again keeps it.
        ManagedDisk = now.ManagedDisk is null ? before.ManagedDisk : now.ManagedDisk with { Id = before.ManagedDisk?.Id ?? now.ManagedDisk.Id },
        DeleteOption = now.DeleteOption ?? before.DeleteOption,
    };

    private static TrustedLaunchExtensions? Extensions(TrustedLaunchExtensions? now, TrustedLaunchExtensions? before) =>
        now is null ? before : before is null ? now : new TrustedLaunchExtensions
        {
            SecureBootTemplate = now.SecureBootTemplate ?? before.SecureBootTemplate,
            SecureBootKeys = now.SecureBootKeys ?? before.SecureBootKeys,
            AttestationIntervalSeconds = now.AttestationIntervalSeconds ?? before.AttestationIntervalSeconds,
            ReferencePolicy = now.ReferencePolicy ?? before.ReferencePolicy,
            NestedVirtualizationEnabled = now.NestedVirtualizationEnabled ?? before.NestedVirtualizationEnabled,
        };
}
