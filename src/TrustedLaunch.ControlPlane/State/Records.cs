using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Model;

namespace TrustedLaunch.ControlPlane.State;

/// <summary>A subscription; one (the default) is created when the service first starts.</summary>
public sealed record SubscriptionRecord
{
    public required string SubscriptionId { get; init; }

    public required string DisplayName { get; init; }

    public required bool IsDefault { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}

public sealed record ResourceGroupRecord
{
    public required string SubscriptionId { get; init; }

    /// <summary>The name as first created (names compare case-insensitively).</summary>
    public required string Name { get; init; }

    public required string Location { get; init; }

    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>The ETag's number: 1 at creation, +1 at every update.</summary>
    public required long Version { get; init; }

    public required ResourceGroupState State { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>Identifies a VM: subscription, resource group and name, compared case-insensitively.</summary>
public readonly record struct VirtualMachineKey(string SubscriptionId, string ResourceGroup, string Name)
{
    public string ResourceGroupKey => ResourceIds.Key(ResourceGroup);

    public string NameKey => ResourceIds.Key(Name);
}

/// <summary>The VM's desired configuration as accepted (defaults applied, read-only members removed).</summary>
public sealed record VirtualMachineModel
{
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    public required VirtualMachineProperties Properties { get; init; }

    /// <summary>A restore of the VM's own snapshot its owner asked for (not an ARM member; the host applies it once, at <see cref="SnapshotRestore.Version"/>).</summary>
    public SnapshotRestore? Restore { get; init; }
}

/// <summary>
/// Roll the VM's OS disk and VMGS back to snapshot <paramref name="SnapshotId"/> (its files on the VM's host), asked at VM version
/// <paramref name="Version"/>. The sanctioned restore (the VM's quote clock set back to <see cref="QuoteClockFloor"/>) is recorded
/// when the host reports the restore done (<see cref="Recorded"/>), never for a restore the host refused.
/// </summary>
public sealed record SnapshotRestore(Guid SnapshotId, long Version)
{
    /// <summary>The snapshot's floor (<c>clock:reset:restart:safe</c>, the newest quote clock accepted when it was taken), kept from the request.</summary>
    public string? QuoteClockFloor { get; init; }

    /// <summary>What the sanctioned restore's record names: the snapshot's resource id and unique id.</summary>
    public string? Source { get; init; }

    /// <summary>The host reported this restore done and the sanctioned restore was recorded.</summary>
    public bool Recorded { get; init; }
}

/// <summary>A VM: its accepted model, where it runs, what its owner wants and what its host last said.</summary>
public sealed record VirtualMachineRecord
{
    public required string SubscriptionId { get; init; }

    public required string ResourceGroup { get; init; }

    public required string Name { get; init; }

    public required Guid VmId { get; init; }

    public required string Location { get; init; }

    /// <summary>The ETag's number: 1 at creation, +1 at every change its owner makes (PUT, power action, delete).</summary>
    public required long Version { get; init; }

    public required VirtualMachineModel Model { get; init; }

    public required ProvisioningState ProvisioningState { get; init; }

    public required DesiredPowerState DesiredPower { get; init; }

    /// <summary>Null until the VM's host reports it.</summary>
    public PowerState? ActualPower { get; init; }

    /// <summary>The host the VM is placed on (it stays there); null until placed.</summary>
    public string? HostName { get; init; }

    /// <summary>The size's vCPUs and memory, kept for placement.</summary>
    public required int VCpus { get; init; }

    public required int MemoryInMB { get; init; }

    /// <summary>The image's generation (V2: UEFI, V1: BIOS), fixed at creation.</summary>
    public required HyperVGeneration Generation { get; init; }

    /// <summary>The operation that is converging the VM, if one is in progress.</summary>
    public string? PendingOperationId { get; init; }

    /// <summary>Incremented by each restart, so a host sees a restart even when the desired state stays Running.</summary>
    public required long RestartGeneration { get; init; }

    /// <summary>Incremented by each request to attest the VM now (<c>POST …/attest</c>); its host attests when it rises.</summary>
    public long AttestationGeneration { get; init; }

    public required DateTimeOffset TimeCreated { get; init; }

    /// <summary>The host's latest report for this VM (boot verdict, console tail, errors).</summary>
    public VmHostReport? LastReport { get; init; }

    /// <summary>The latest Secure Boot key update (<c>POST …/x-tl-updateSecureBootKeys</c>): pending until its host has answered, then its record.</summary>
    public SecureBootKeyUpdateRecord? SecureBootKeyUpdate { get; init; }

    /// <summary>
    /// Set by the store: a database-wide sequence number taken at every write of the row. Writes compare-and-swap on it,
    /// and a host's long-poll token is the highest one among its VMs.
    /// </summary>
    public long ChangeSequence { get; init; }

    public VirtualMachineKey Key => new(SubscriptionId, ResourceGroup, Name);

    public string ResourceId => ResourceIds.VirtualMachine(SubscriptionId, ResourceGroup, Name);
}

/// <summary>A long-running operation (an <c>Azure-AsyncOperation</c> / <c>Location</c> monitor).</summary>
public sealed record OperationRecord
{
    public required string OperationId { get; init; }

    public required string SubscriptionId { get; init; }

    public required string Location { get; init; }

    /// <summary>The resource the operation acts on (kept after the resource is gone: monitors outlive it).</summary>
    public required string ResourceId { get; init; }

    public required OperationKind Kind { get; init; }

    public required OperationStatus Status { get; init; }

    public ArmErrorDetail? Error { get; init; }

    public required DateTimeOffset StartTime { get; init; }

    public DateTimeOffset? EndTime { get; init; }

    /// <summary>The VM version the operation brings about; a host report at this version (or later) can complete it.</summary>
    public long? TargetVersion { get; init; }

    /// <summary>A new operation on <paramref name="resourceId"/>, InProgress from <paramref name="now"/>.</summary>
    public static OperationRecord Start(string subscriptionId, string location, string resourceId, OperationKind kind, long targetVersion,
        DateTimeOffset now) => new()
    {
        OperationId = Guid.NewGuid().ToString(),
        SubscriptionId = subscriptionId,
        Location = location,
        ResourceId = resourceId,
        Kind = kind,
        Status = OperationStatus.InProgress,
        StartTime = now,
        TargetVersion = targetVersion,
    };

    public OperationRecord Complete(OperationStatus status, DateTimeOffset at, ArmErrorDetail? error = null) =>
        this with { Status = status, EndTime = at, Error = error };
}

/// <summary>A hypervisor host, registered by its agent (<c>tl host</c>); alive while it polls within the liveness window.</summary>
public sealed record HostRecord
{
    public required string Name { get; init; }

    public required int VCpus { get; init; }

    public required int MemoryInMB { get; init; }

    public required HostAccelerator Accelerator { get; init; }

    public string? AgentVersion { get; init; }

    public required DateTimeOffset RegisteredAt { get; init; }

    public required DateTimeOffset LastSeenAt { get; init; }
}

/// <summary>What a host last said about one VM beyond its power state.</summary>
public sealed record VmHostReport
{
    public required DateTimeOffset ReportedAt { get; init; }

    /// <summary>The runtime's boot verdict: booted, secure-boot-violation, …</summary>
    public string? BootVerdict { get; init; }

    public string? BootVerdictDetail { get; init; }

    /// <summary>The last lines of the serial console.</summary>
    public string? ConsoleTail { get; init; }

    public ArmErrorDetail? Error { get; init; }

    /// <summary>The vTPM's identity keys as its host read them when it manufactured the vTPM (kept across reports).</summary>
    public IReadOnlyList<VTpmKeyReport>? VTpmKeys { get; init; }
}
