namespace TrustedLaunch.ControlPlane.Model;

/// <summary>
/// <c>Microsoft.Compute/snapshots</c> as Azure's disk resource provider shapes it: a copy of a VM's OS disk
/// (<c>creationData {createOption: Copy, sourceResourceId}</c>). On this platform a snapshot of a Generation 2 VM is a pair,
/// the OS disk and its VM guest state (VMGS) taken at one instant, kept on the source VM's host; what Azure's schema has
/// no field for is in <see cref="SnapshotProperties.TrustedLaunchSnapshot"/>.
/// </summary>
public sealed record SnapshotResource
{
    public string? Id { get; init; }

    public string? Name { get; init; }

    public string? Type { get; init; }

    public string? Location { get; init; }

    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    public SnapshotSku? Sku { get; init; }

    public SnapshotProperties? Properties { get; init; }
}

public sealed record SnapshotSku
{
    /// <summary>Standard_LRS (the default), Premium_LRS or Standard_ZRS: a label here (the copy lives on the host's disk).</summary>
    public string? Name { get; init; }

    public string? Tier { get; init; }
}

public sealed record SnapshotProperties
{
    public string? OsType { get; init; }

    /// <summary>V1 or V2, the source VM's generation.</summary>
    public string? HyperVGeneration { get; init; }

    public CreationData? CreationData { get; init; }

    public int? DiskSizeGB { get; init; }

    public long? DiskSizeBytes { get; init; }

    /// <summary>The snapshot's id (a GUID), as Azure's <c>uniqueId</c>.</summary>
    public string? UniqueId { get; init; }

    public bool? Incremental { get; init; }

    /// <summary><c>TrustedLaunch</c> when the source VM was a Trusted Launch VM; absent for Standard (as a Standard disk reads back).</summary>
    public DiskSecurityProfile? SecurityProfile { get; init; }

    public string? ProvisioningState { get; init; }

    public DateTimeOffset? TimeCreated { get; init; }

    /// <summary>Our extension (read-only): the source VM, the host holding the files, whether the guest state is in it.</summary>
    public TrustedLaunchSnapshot? TrustedLaunchSnapshot { get; init; }
}

public sealed record CreationData
{
    /// <summary>Copy (the only value served: a copy of a VM's OS disk and its guest state).</summary>
    public string? CreateOption { get; init; }

    /// <summary>The VM (<c>…/virtualMachines/{vm}</c>: its OS disk) or its OS disk (<c>…/disks/{osDiskName}</c>).</summary>
    public string? SourceResourceId { get; init; }

    public string? SourceUniqueId { get; init; }
}

public sealed record DiskSecurityProfile
{
    public string? SecurityType { get; init; }
}

/// <summary>What a snapshot holds beyond Azure's shape (read-only).</summary>
public sealed record TrustedLaunchSnapshot
{
    public string? SourceVirtualMachineId { get; init; }

    public string? SourceVmId { get; init; }

    /// <summary>The host whose disk holds the pair; a VM made from the snapshot is placed there.</summary>
    public string? HostName { get; init; }

    /// <summary>The VMGS (UEFI variables, vTPM state, identity) was copied with the disk at the same instant.</summary>
    public bool? GuestStateIncluded { get; init; }

    public string? VmgsSha256 { get; init; }
}
