using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Snapshots;

/// <summary>Identifies a snapshot: subscription, resource group and name, compared case-insensitively.</summary>
public readonly record struct SnapshotKey(string SubscriptionId, string ResourceGroup, string Name)
{
    public string ResourceGroupKey => ResourceIds.Key(ResourceGroup);

    public string NameKey => ResourceIds.Key(Name);
}

/// <summary>A snapshot: where its files are (the source VM's host) and what the source was when it was taken.</summary>
public sealed record SnapshotRecord
{
    public required string SubscriptionId { get; init; }

    public required string ResourceGroup { get; init; }

    public required string Name { get; init; }

    /// <summary>Azure's <c>uniqueId</c>; also the folder name of the pair on its host (<c>TL_HOME/snapshots/&lt;id&gt;</c>).</summary>
    public required Guid SnapshotId { get; init; }

    public required string Location { get; init; }

    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    public string? SkuName { get; init; }

    /// <summary>The ETag's number: 1 at creation, +1 at every change.</summary>
    public required long Version { get; init; }

    public required ProvisioningState ProvisioningState { get; init; }

    public required DateTimeOffset TimeCreated { get; init; }

    /// <summary><c>creationData.sourceResourceId</c> as the caller sent it (the VM or its OS disk).</summary>
    public required string SourceResourceId { get; init; }

    /// <summary>The source VM's resource id and <c>vmId</c>: a restore goes back into that VM only.</summary>
    public required string SourceVirtualMachineId { get; init; }

    public required Guid SourceVmId { get; init; }

    public required string HostName { get; init; }

    /// <summary>TrustedLaunch or Standard: a VM made from the snapshot must have the same.</summary>
    public required string SecurityType { get; init; }

    public required HyperVGeneration Generation { get; init; }

    /// <summary>The image the source VM's disk is an overlay on (a VM made from the snapshot keeps it).</summary>
    public required ImageReference ImageReference { get; init; }

    public required string VmSize { get; init; }

    public int? DiskSizeGB { get; init; }

    /// <summary>Reported by the host once taken.</summary>
    public long? DiskSizeBytes { get; init; }

    public bool? GuestStateIncluded { get; init; }

    public string? VmgsSha256 { get; init; }

    public ArmErrorDetail? Error { get; init; }

    /// <summary>
    /// The newest quote clock the attestation service had accepted from the source VM when the snapshot was taken (opaque; null
    /// when none): a restore of the snapshot is sanctioned down to this floor, not below.
    /// </summary>
    public string? QuoteClockFloor { get; init; }

    public string? PendingOperationId { get; init; }

    public SnapshotKey Key => new(SubscriptionId, ResourceGroup, Name);

    public string ResourceId => ResourceIds.Snapshot(SubscriptionId, ResourceGroup, Name);
}

/// <summary>One atomic change of a snapshot row and the operations that go with it.</summary>
public sealed record SnapshotWrite
{
    public required SnapshotKey Key { get; init; }

    /// <summary>The new row; null removes it.</summary>
    public SnapshotRecord? Record { get; init; }

    /// <summary>The version the caller read; null inserts (the name must be free, its resource group present and not being deleted).</summary>
    public long? ExpectedVersion { get; init; }

    public IReadOnlyList<OperationRecord> Operations { get; init; } = [];
}

public interface ISnapshotStore
{
    Task<SnapshotRecord?> GetAsync(SnapshotKey key, CancellationToken cancellationToken);

    Task<SnapshotRecord?> GetByIdAsync(Guid snapshotId, CancellationToken cancellationToken);

    /// <summary>Snapshots of a subscription, or of one of its resource groups, ordered by resource group then name.</summary>
    Task<IReadOnlyList<SnapshotRecord>> ListAsync(string subscriptionId, string? resourceGroup, CancellationToken cancellationToken);

    /// <summary>The snapshots whose files are on <paramref name="hostName"/> (any state).</summary>
    Task<IReadOnlyList<SnapshotRecord>> ListByHostAsync(string hostName, CancellationToken cancellationToken);

    /// <summary>Applies <paramref name="write"/> atomically (compare-and-swap on the version; inserts ask the group's admission).</summary>
    Task<WriteOutcome> WriteAsync(SnapshotWrite write, CancellationToken cancellationToken);
}

/// <summary>
/// The attestation service's quote-clock record as snapshots need it: the floor a snapshot keeps (the newest quote clock accepted
/// from its VM when it was taken), and the record of a restore its owner asked for, which sets the VM's clock back to that floor.
/// </summary>
public interface IQuoteClockFloors
{
    Task<string?> CaptureAsync(Guid vmId, CancellationToken cancellationToken);

    Task SanctionAsync(Guid vmId, string source, string? floor, CancellationToken cancellationToken);
}
