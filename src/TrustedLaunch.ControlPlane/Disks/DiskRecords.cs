using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Disks;

/// <summary>Identifies a disk: subscription, resource group and name, compared case-insensitively.</summary>
public readonly record struct DiskKey(string SubscriptionId, string ResourceGroup, string Name)
{
    public string ResourceGroupKey => ResourceIds.Key(ResourceGroup);

    public string NameKey => ResourceIds.Key(Name);
}

/// <summary>Azure's <c>diskState</c> values served here.</summary>
public enum DiskState
{
    Attached,
    Unattached,
}

/// <summary>
/// A managed disk: a VM's OS disk and (Generation 2) its VM guest state, on one host. While attached, its VM owns the files
/// (<c>TL_HOME/vms/&lt;vmId&gt;</c>) and the disk's host is the VM's; once detached the files are in
/// <c>TL_HOME/detached/&lt;name&gt;-&lt;diskId:N&gt;</c> on <see cref="HostName"/>.
/// </summary>
public sealed record DiskRecord
{
    public required string SubscriptionId { get; init; }

    public required string ResourceGroup { get; init; }

    public required string Name { get; init; }

    /// <summary>Azure's <c>uniqueId</c>; with the name, the folder of a detached disk on its host.</summary>
    public required Guid DiskId { get; init; }

    public required string Location { get; init; }

    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    public string? SkuName { get; init; }

    /// <summary>The ETag's number: 1 at creation, +1 at every change.</summary>
    public required long Version { get; init; }

    public required ProvisioningState ProvisioningState { get; init; }

    public required DateTimeOffset TimeCreated { get; init; }

    public required DiskState State { get; init; }

    /// <summary>The VM attached (<c>managedBy</c>) and its <c>vmId</c>; null when Unattached.</summary>
    public string? ManagedBy { get; init; }

    public Guid? ManagedByVmId { get; init; }

    /// <summary>The host holding the files of an Unattached disk (an attached one is on its VM's host).</summary>
    public string? HostName { get; init; }

    /// <summary>The VM the disk was last attached to: the guest state's vTPM was certified for it.</summary>
    public required Guid LastVmId { get; init; }

    /// <summary>TrustedLaunch or Standard: a VM attaching the disk must have the same.</summary>
    public required string SecurityType { get; init; }

    public required HyperVGeneration Generation { get; init; }

    /// <summary>The image the disk is an overlay on (a VM attaching it keeps it).</summary>
    public required ImageReference ImageReference { get; init; }

    public int? DiskSizeGB { get; init; }

    /// <summary>FromImage, Copy (a VM made from a snapshot: <see cref="SourceResourceId"/>) or Restore (a backup: <see cref="RestoredFrom"/>).</summary>
    public required string CreateOption { get; init; }

    public string? SourceResourceId { get; init; }

    /// <summary>The backup archive a Restore disk was made from (<see cref="RestoredDiskService"/>); null otherwise.</summary>
    public DiskBackupSource? RestoredFrom { get; init; }

    public string? PendingOperationId { get; init; }

    public DiskKey Key => new(SubscriptionId, ResourceGroup, Name);

    public string ResourceId => ResourceIds.Disk(SubscriptionId, ResourceGroup, Name);
}

/// <summary>The archive a restored disk came from: its backup id, the VM it was taken of (whose vTPM it holds) and when.</summary>
public sealed record DiskBackupSource(Guid BackupId, Guid SourceVmId, DateTimeOffset TakenAt);

/// <summary>One atomic change of a disk row and the operations that go with it (alone, or inside a VM's write).</summary>
public sealed record DiskWrite
{
    public required DiskKey Key { get; init; }

    /// <summary>The new row; null removes it.</summary>
    public DiskRecord? Record { get; init; }

    /// <summary>The version the caller read; null inserts (the name must be free, its resource group present and not being deleted).</summary>
    public long? ExpectedVersion { get; init; }

    public IReadOnlyList<OperationRecord> Operations { get; init; } = [];
}

public interface IDiskStore
{
    Task<DiskRecord?> GetAsync(DiskKey key, CancellationToken cancellationToken);

    Task<DiskRecord?> GetByIdAsync(Guid diskId, CancellationToken cancellationToken);

    /// <summary>The disk attached to the VM <paramref name="vmId"/>, if it has one.</summary>
    Task<DiskRecord?> GetByManagerAsync(Guid vmId, CancellationToken cancellationToken);

    /// <summary>Disks of a subscription, or of one of its resource groups, ordered by resource group then name.</summary>
    Task<IReadOnlyList<DiskRecord>> ListAsync(string subscriptionId, string? resourceGroup, CancellationToken cancellationToken);

    /// <summary>The Unattached disks whose files are on <paramref name="hostName"/> (any provisioning state).</summary>
    Task<IReadOnlyList<DiskRecord>> ListByHostAsync(string hostName, CancellationToken cancellationToken);

    /// <summary>Applies <paramref name="write"/> atomically (compare-and-swap on the version; inserts ask the group's admission).</summary>
    Task<WriteOutcome> WriteAsync(DiskWrite write, CancellationToken cancellationToken);
}
