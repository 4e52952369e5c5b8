namespace TrustedLaunch.ControlPlane.Model;

/// <summary>
/// <c>Microsoft.Compute/disks</c> as Azure's disk resource provider shapes it. Every VM's OS disk is one: <c>Attached</c> and
/// <c>managedBy</c> its VM while the VM exists; a VM deleted with <c>deleteOption: Detach</c> leaves it <c>Unattached</c>, its
/// files (the qcow2 overlay and, for Generation 2, its VM guest state) kept on its host, from where a new VM attaches it
/// (<c>osDisk.createOption: Attach</c>). What Azure's schema has no field for is in <see cref="DiskProperties.TrustedLaunchDisk"/>.
/// </summary>
public sealed record DiskResource
{
    public string? Id { get; init; }

    public string? Name { get; init; }

    public string? Type { get; init; }

    public string? Location { get; init; }

    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>The VM the disk is attached to (absent when Unattached).</summary>
    public string? ManagedBy { get; init; }

    public SnapshotSku? Sku { get; init; }

    public DiskProperties? Properties { get; init; }
}

public sealed record DiskProperties
{
    public string? OsType { get; init; }

    /// <summary>V1 or V2.</summary>
    public string? HyperVGeneration { get; init; }

    public DiskCreationData? CreationData { get; init; }

    public int? DiskSizeGB { get; init; }

    /// <summary>The disk's id (a GUID), as Azure's <c>uniqueId</c>.</summary>
    public string? UniqueId { get; init; }

    /// <summary>Attached or Unattached.</summary>
    public string? DiskState { get; init; }

    /// <summary><c>TrustedLaunch</c> for a Trusted Launch VM's disk; absent for Standard (as a Standard disk reads back).</summary>
    public DiskSecurityProfile? SecurityProfile { get; init; }

    public string? ProvisioningState { get; init; }

    public DateTimeOffset? TimeCreated { get; init; }

    /// <summary>Our extension (read-only): the host that holds the files and the VM whose guest state the disk carries.</summary>
    public TrustedLaunchDisk? TrustedLaunchDisk { get; init; }
}

/// <summary>Azure's <c>creationData</c> of a disk: <c>FromImage</c> with the image's id, <c>Copy</c> of a snapshot, or <c>Restore</c> of a backup.</summary>
public sealed record DiskCreationData
{
    public string? CreateOption { get; init; }

    public DiskImageReference? ImageReference { get; init; }

    public string? SourceResourceId { get; init; }
}

public sealed record DiskImageReference
{
    /// <summary><c>/Subscriptions/{s}/Providers/Microsoft.Compute/Locations/{l}/Publishers/{p}/ArtifactTypes/VMImage/Offers/{o}/Skus/{k}/Versions/{v}</c>.</summary>
    public string? Id { get; init; }
}

/// <summary>What a disk holds beyond Azure's shape (read-only).</summary>
public sealed record TrustedLaunchDisk
{
    /// <summary>The host whose disk holds the files; a VM that attaches the disk is placed there.</summary>
    public string? HostName { get; init; }

    /// <summary>The <c>vmId</c> of the VM the disk was last attached to (its guest state's vTPM keeps its EK across VMs).</summary>
    public string? LastVmId { get; init; }

    /// <summary>The VM guest state (UEFI variables, vTPM) lives beside the disk and goes with it (Generation 2).</summary>
    public bool? GuestStateIncluded { get; init; }

    /// <summary>A disk restored from a backup archive (<c>creationData.createOption: Restore</c>): which backup, of which VM, taken when.</summary>
    public RestoredFromBackup? RestoredFromBackup { get; init; }
}

/// <summary>The backup archive a restored disk came from (<c>tl backup restore --disk</c>); its vTPM is the source VM's.</summary>
public sealed record RestoredFromBackup
{
    public string? BackupId { get; init; }

    public string? SourceVmId { get; init; }

    public DateTimeOffset? TakenAt { get; init; }
}
