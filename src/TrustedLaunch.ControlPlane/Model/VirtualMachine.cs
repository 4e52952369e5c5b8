using System.Text.Json.Serialization;

namespace TrustedLaunch.ControlPlane.Model;

// Microsoft.Compute/virtualMachines as Azure's REST API spells it (azure-rest-api-specs, ComputeRP virtualMachine.json).
// The same records carry requests and answers: request bodies leave the read-only members out (and any sent are
// ignored); members Azure has and this platform does not serve (diagnosticsProfile, …) are accepted and not echoed.

/// <summary>A VM as PUT and GET carry it.</summary>
public sealed record VirtualMachineResource
{
    public string? Id { get; init; }

    public string? Name { get; init; }

    public string? Type { get; init; }

    public string? Location { get; init; }

    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>Read-only: the quoted version also sent as the <c>ETag</c> header.</summary>
    public string? Etag { get; init; }

    public VirtualMachineProperties? Properties { get; init; }
}

public sealed record VirtualMachineProperties
{
    public HardwareProfile? HardwareProfile { get; init; }

    public StorageProfile? StorageProfile { get; init; }

    public SecurityProfile? SecurityProfile { get; init; }

    public AdditionalCapabilities? AdditionalCapabilities { get; init; }

    /// <summary>A dedicated host (<c>Microsoft.Compute/hostGroups/{g}/hosts/{h}</c>).</summary>
    public SubResource? Host { get; init; }

    /// <summary>A dedicated host group.</summary>
    public SubResource? HostGroup { get; init; }

    [JsonPropertyName("osProfile")]
    public OSProfile? OSProfile { get; init; }

    /// <summary>The VM's NICs (<c>Microsoft.Network/networkInterfaces</c> ids); each becomes a virtio NIC on its host.</summary>
    public NetworkProfile? NetworkProfile { get; init; }

    /// <summary>This platform's settings that Azure's schema has no field for (docs/control-plane.md, "Extension object").</summary>
    public TrustedLaunchExtensions? TrustedLaunchExtensions { get; init; }

    /// <summary>The flexible scale set the VM is an instance of; set by the scale set, fixed for the VM's life.</summary>
    public SubResource? VirtualMachineScaleSet { get; init; }

    /// <summary>The scale set's logical fault domain the instance is in (Azure's member); set by the scale set, fixed for the VM's life.</summary>
    public int? PlatformFaultDomain { get; init; }

    /// <summary>Read-only: the VM's unique id (QEMU's <c>-uuid</c>, the id in its vTPM's AK certificate).</summary>
    public string? VmId { get; init; }

    /// <summary>Read-only: Creating, Updating, Succeeded, Failed, Deleting.</summary>
    public string? ProvisioningState { get; init; }

    /// <summary>Read-only (api-version 2021-11-01 and later).</summary>
    public DateTimeOffset? TimeCreated { get; init; }

    /// <summary>Read-only, with <c>$expand=instanceView</c>.</summary>
    public VirtualMachineInstanceView? InstanceView { get; init; }
}

public sealed record HardwareProfile
{
    public string? VmSize { get; init; }
}

public sealed record StorageProfile
{
    public ImageReference? ImageReference { get; init; }

    public OSDisk? OsDisk { get; init; }

    public IReadOnlyList<DataDisk>? DataDisks { get; init; }
}

/// <summary>A platform image (<c>publisher/offer/sku/version</c>) or an image resource (<c>id</c>).</summary>
public sealed record ImageReference
{
    public string? Publisher { get; init; }

    public string? Offer { get; init; }

    public string? Sku { get; init; }

    /// <summary><c>Major.Minor.Build</c> or <c>latest</c>.</summary>
    public string? Version { get; init; }

    public string? Id { get; init; }

    /// <summary>Read-only: the version <c>latest</c> resolved to at creation.</summary>
    public string? ExactVersion { get; init; }
}

public sealed record OSDisk
{
    public string? Name { get; init; }

    public string? OsType { get; init; }

    /// <summary>FromImage, or Attach with <c>managedDisk.id</c> naming a snapshot (a new VM from its OS disk and UEFI variables, with a new vTPM).</summary>
    public string? CreateOption { get; init; }

    public string? Caching { get; init; }

    public int? DiskSizeGB { get; init; }

    /// <summary>Ephemeral OS disk settings; refused with Trusted Launch.</summary>
    public DiffDiskSettings? DiffDiskSettings { get; init; }

    public ManagedDiskParameters? ManagedDisk { get; init; }

    /// <summary>Delete (with the VM, and its VM guest state) or Detach (kept with its VM guest state).</summary>
    public string? DeleteOption { get; init; }
}

public sealed record DataDisk
{
    public int? Lun { get; init; }

    public string? Name { get; init; }

    public string? CreateOption { get; init; }

    public string? Caching { get; init; }

    public int? DiskSizeGB { get; init; }

    public ManagedDiskParameters? ManagedDisk { get; init; }

    public string? DeleteOption { get; init; }

    /// <summary>
    /// How many VMs may attach the disk at once. Azure sets this on the <c>Microsoft.Compute/disks</c> resource, which
    /// this platform does not have; a data disk entry carries it inline instead (a shared disk is one with more than 1).
    /// </summary>
    public int? MaxShares { get; init; }
}

public sealed record DiffDiskSettings
{
    public string? Option { get; init; }

    public string? Placement { get; init; }
}

public sealed record ManagedDiskParameters
{
    public string? Id { get; init; }

    /// <summary>Standard_LRS, Premium_LRS, StandardSSD_LRS, UltraSSD_LRS, …</summary>
    public string? StorageAccountType { get; init; }
}

/// <summary>
/// <c>securityType</c> is <c>TrustedLaunch</c> or absent (a Standard VM reads back without it, as in Azure); a request
/// may also say <c>Standard</c>. <c>ConfidentialVM</c> is refused on this platform.
/// </summary>
public sealed record SecurityProfile
{
    public string? SecurityType { get; init; }

    public UefiSettings? UefiSettings { get; init; }

    public bool? EncryptionAtHost { get; init; }
}

public sealed record UefiSettings
{
    public bool? SecureBootEnabled { get; init; }

    [JsonPropertyName("vTpmEnabled")]
    public bool? VTpmEnabled { get; init; }
}

public sealed record AdditionalCapabilities
{
    [JsonPropertyName("ultraSSDEnabled")]
    public bool? UltraSSDEnabled { get; init; }

    public bool? HibernationEnabled { get; init; }
}

public sealed record SubResource
{
    public string? Id { get; init; }
}

/// <summary>Only the computer name and the admin user are kept; passwords and custom data are never stored or echoed.</summary>
public sealed record OSProfile
{
    public string? ComputerName { get; init; }

    public string? AdminUsername { get; init; }
}

/// <summary>Azure's <c>networkProfile</c> with NIC references (the inline <c>networkInterfaceConfigurations</c> form is not served).</summary>
public sealed record NetworkProfile
{
    public IReadOnlyList<NetworkInterfaceReference>? NetworkInterfaces { get; init; }
}

public sealed record NetworkInterfaceReference
{
    public string? Id { get; init; }

    public NetworkInterfaceReferenceProperties? Properties { get; init; }
}

public sealed record NetworkInterfaceReferenceProperties
{
    /// <summary>Which NIC is primary when the VM has more than one (required then, as in Azure).</summary>
    public bool? Primary { get; init; }

    /// <summary>Delete (the NIC goes with the VM) or Detach (the default: it stays).</summary>
    public string? DeleteOption { get; init; }
}
