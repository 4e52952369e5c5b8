using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Hosts;

/// <summary>How a placed write went.</summary>
public enum PlacementOutcome
{
    /// <summary>Written, on a host (or, with no live host at all, unplaced: it waits for one).</summary>
    Written,

    /// <summary>Live hosts exist but none has room for the VM: nothing was written.</summary>
    NoCapacity,

    /// <summary>The row changed since it was read, or its resource group is missing or being deleted (see <see cref="PlacedWrite.Store"/>).</summary>
    StoreRefused,
}

/// <summary>The result of <see cref="Placement.WriteAsync"/>.</summary>
public sealed record PlacedWrite(PlacementOutcome Outcome, WriteOutcome Store, VirtualMachineRecord? Record);

/// <summary>
/// First-fit placement: the live hosts in registration order, the first with free vCPUs and memory for the VM (VMs
/// that are not deallocated count against their host). The capacity check runs inside the store's write
/// transaction, so concurrent placements cannot overfill a host. A VM stays on its host afterwards (its VM guest
/// state is there); a deallocated VM keeps its host and needs room on it again to start.
/// </summary>
public sealed class Placement(IHostStore hosts, IVirtualMachineStore machines, ControlPlaneOptions options, TimeProvider time)
{
    public bool IsAlive(HostRecord host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return time.GetUtcNow() - host.LastSeenAt <= options.HostLivenessWindow;
    }

    public CapacityGuard Guard(HostRecord host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return new CapacityGuard(host.Name, (int)Math.Floor(host.VCpus * options.CpuOvercommitRatio), host.MemoryInMB);
    }

    /// <summary>
    /// Writes <paramref name="write"/>'s record on the first live host with room, or unplaced when no host is alive
    /// (the VM waits). A record that already has a host is written with a guard on that host.
    /// </summary>
    public async Task<PlacedWrite> WriteAsync(VirtualMachineWrite write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        VirtualMachineRecord record = write.Record ?? throw new ArgumentException("Placement writes a record.", nameof(write));
        if (record.HostName is string placed)
        {
            HostRecord? own = await hosts.GetAsync(placed, cancellationToken);
            if (own is null || !IsAlive(own))
                return Result(await machines.WriteAsync(write, cancellationToken), record);
            WriteOutcome outcome = await machines.WriteAsync(write with { Capacity = Guard(own) }, cancellationToken);
            return outcome == WriteOutcome.CapacityExceeded ? new PlacedWrite(PlacementOutcome.NoCapacity, outcome, null) : Result(outcome, record);
        }

        HostRecord[] alive = (await hosts.ListAsync(cancellationToken)).Where(IsAlive).ToArray();
        if (alive.Length == 0)
            return Result(await machines.WriteAsync(write, cancellationToken), record);
        foreach (HostRecord host in alive.Where(h => Guard(h).HostVCpus >= record.VCpus && h.MemoryInMB >= record.MemoryInMB))
        {
            VirtualMachineRecord onHost = record with { HostName = host.Name };
            WriteOutcome outcome = await machines.WriteAsync(write with { Record = onHost, Capacity = Guard(host) }, cancellationToken);
            if (outcome != WriteOutcome.CapacityExceeded)
                return Result(outcome, onHost);
        }

        return new PlacedWrite(PlacementOutcome.NoCapacity, WriteOutcome.CapacityExceeded, null);
    }

    private static PlacedWrite Result(WriteOutcome outcome, VirtualMachineRecord record) =>
        outcome == WriteOutcome.Written
            ? new PlacedWrite(PlacementOutcome.Written, outcome, record)
            : new PlacedWrite(PlacementOutcome.StoreRefused, outcome, null);
}
