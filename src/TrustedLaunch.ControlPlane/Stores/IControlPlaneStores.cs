using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.ControlPlane.Stores;

// The control plane's persistence, as interfaces a database implements (SQLite in TrustedLaunch.Server; PostgreSQL can
// follow). Every write that must be atomic is one call: a VM and its operations change in one transaction, and every
// change of a row compare-and-swaps on a version the caller read, so concurrent requests cannot lose each other's work.

/// <summary>What a conditional write did.</summary>
public enum WriteOutcome
{
    Written,

    /// <summary>The row exists (insert) or changed since it was read / is gone (update, remove): re-read and decide again.</summary>
    Conflict,

    /// <summary>The VM's resource group does not exist.</summary>
    ResourceGroupMissing,

    /// <summary>The VM's resource group is being deleted: nothing new may be created in it.</summary>
    ResourceGroupDeleting,

    /// <summary>The placement guard failed: the host has no room left for the VM.</summary>
    CapacityExceeded,

    /// <summary>A resource group still holds VMs, so it cannot be removed yet.</summary>
    NotEmpty,
}

public interface ISubscriptionStore
{
    /// <summary>The default subscription, created (a new GUID) when there is none; concurrent callers get the same one.</summary>
    Task<SubscriptionRecord> EnsureDefaultAsync(DateTimeOffset now, CancellationToken cancellationToken);

    Task<SubscriptionRecord?> GetAsync(string subscriptionId, CancellationToken cancellationToken);

    Task<IReadOnlyList<SubscriptionRecord>> ListAsync(CancellationToken cancellationToken);
}

public interface IResourceGroupStore
{
    Task<ResourceGroupRecord?> GetAsync(string subscriptionId, string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<ResourceGroupRecord>> ListAsync(string subscriptionId, CancellationToken cancellationToken);

    /// <summary>Inserts (<paramref name="expectedVersion"/> null: must not exist) or replaces the group at that version.</summary>
    Task<WriteOutcome> SaveAsync(ResourceGroupRecord group, long? expectedVersion, CancellationToken cancellationToken);

    /// <summary>Removes the group when it is at <paramref name="expectedVersion"/> and holds no VM (else Conflict / NotEmpty).</summary>
    Task<WriteOutcome> RemoveAsync(string subscriptionId, string name, long expectedVersion, CancellationToken cancellationToken);

    /// <summary>Records an operation about a group (its deletion) on its own.</summary>
    Task SaveOperationAsync(OperationRecord operation, CancellationToken cancellationToken);
}

/// <summary>Room a placement needs on a host, checked inside the write's transaction.</summary>
public sealed record CapacityGuard(string HostName, int HostVCpus, int HostMemoryInMB);

/// <summary>One atomic change of a VM row and the operations that go with it.</summary>
public sealed record VirtualMachineWrite
{
    public required VirtualMachineKey Key { get; init; }

    /// <summary>The new row; null removes it (and its resource group too when that is being deleted and is now empty).</summary>
    public VirtualMachineRecord? Record { get; init; }

    /// <summary>
    /// The <see cref="VirtualMachineRecord.ChangeSequence"/> the caller read; null inserts (the VM must not exist and its
    /// resource group must, not being deleted).
    /// </summary>
    public long? ExpectedSequence { get; init; }

    /// <summary>Operations created or completed by this change, upserted in the same transaction.</summary>
    public IReadOnlyList<OperationRecord> Operations { get; init; } = [];

    /// <summary>When set, the write fails with CapacityExceeded unless the host still has room for the VM (the row's vCPUs and memory).</summary>
    public CapacityGuard? Capacity { get; init; }

    /// <summary>
    /// The VM's OS disk row changed with it, in the same transaction (made with the VM, attached to it, detached or removed with
    /// it); a disk write that does not apply fails the whole write with Conflict.
    /// </summary>
    public Disks.DiskWrite? OsDisk { get; init; }
}

/// <summary>A page of a listing and the token of the next one (null on the last page).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? ContinuationToken);

public interface IVirtualMachineStore
{
    Task<VirtualMachineRecord?> GetAsync(VirtualMachineKey key, CancellationToken cancellationToken);

    Task<VirtualMachineRecord?> GetByVmIdAsync(Guid vmId, CancellationToken cancellationToken);

    /// <summary>The VMs of <paramref name="vmIds"/> the store holds (one read where the store can; those it does not hold are absent).</summary>
    async Task<IReadOnlyList<VirtualMachineRecord>> GetByVmIdsAsync(IReadOnlyCollection<Guid> vmIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vmIds);
        var found = new List<VirtualMachineRecord>(vmIds.Count);
        foreach (Guid vmId in vmIds)
        {
            if (await GetByVmIdAsync(vmId, cancellationToken) is VirtualMachineRecord vm)
                found.Add(vm);
        }

        return found;
    }

    /// <summary>VMs of a subscription, or of one of its resource groups, ordered by resource group then name.</summary>
    Task<Page<VirtualMachineRecord>> ListAsync(string subscriptionId, string? resourceGroup, string? continuationToken, int pageSize,
        CancellationToken cancellationToken);

    Task<IReadOnlyList<VirtualMachineRecord>> ListByHostAsync(string hostName, CancellationToken cancellationToken);

    /// <summary>VMs waiting for a host (not placed, not deleting), oldest first.</summary>
    Task<IReadOnlyList<VirtualMachineRecord>> ListUnplacedAsync(CancellationToken cancellationToken);

    /// <summary>Applies <paramref name="write"/> atomically; the written row gets a new <see cref="VirtualMachineRecord.ChangeSequence"/>.</summary>
    Task<WriteOutcome> WriteAsync(VirtualMachineWrite write, CancellationToken cancellationToken);
}

public interface IOperationStore
{
    Task<OperationRecord?> GetAsync(string operationId, CancellationToken cancellationToken);

    /// <summary>Writes an operation's new state unless it is already terminal (a completed operation never changes again).</summary>
    Task<bool> CompleteAsync(OperationRecord operation, CancellationToken cancellationToken);
}

public interface IHostStore
{
    /// <summary>Registers a host or updates its registration (capacity, accelerator, agent), keeping its VMs.</summary>
    Task SaveAsync(HostRecord host, CancellationToken cancellationToken);

    Task<HostRecord?> GetAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<HostRecord>> ListAsync(CancellationToken cancellationToken);

    Task TouchAsync(string name, DateTimeOffset seenAt, CancellationToken cancellationToken);
}

public interface IImageStore
{
    /// <summary>Adds or replaces the entry for its publisher/offer/sku/version.</summary>
    Task SaveAsync(ImageEntry image, CancellationToken cancellationToken);

    Task<IReadOnlyList<ImageEntry>> ListAsync(string publisher, string offer, string sku, CancellationToken cancellationToken);

    Task<IReadOnlyList<ImageEntry>> ListAllAsync(CancellationToken cancellationToken);

    Task<bool> RemoveAsync(string publisher, string offer, string sku, string version, CancellationToken cancellationToken);
}

/// <summary>Whether a named reference policy exists (implemented over the attestation service's policy store).</summary>
public interface IReferencePolicyLookup
{
    Task<bool> ExistsAsync(string name, CancellationToken cancellationToken);
}

/// <summary>
/// The attestation service's VM registry as the control plane feeds it: a Trusted Launch VM with a vTPM is registered
/// (its <c>vmId</c> and its reference policy) when it is created, so the evidence its host relays is accepted; its
/// policy follows updates; it is removed when the VM is deleted (its results and baseline stay for audit).
/// </summary>
public interface IAttestationEnrollment
{
    /// <summary>Registers the VM, or replaces its policy (null: the built-in minimum).</summary>
    Task EnrollAsync(Guid vmId, string? referencePolicy, CancellationToken cancellationToken);

    /// <summary>Removes the VM from the registry (nothing happens when it is not registered).</summary>
    Task WithdrawAsync(Guid vmId, CancellationToken cancellationToken);
}

/// <summary>
/// Arms a sanctioned Secure Boot key change on a VM's attestation baseline (implemented by the attestation service): the
/// next attestation whose PCR 7 shows exactly <c>keys</c> relearns the early-boot baseline for the operation instead of
/// deviating. Any other PCR 7 change still deviates.
/// </summary>
public interface IKeyChangeSanctions
{
    /// <summary>False when the VM has no baseline yet (its first passing attestation learns one with the new keys).</summary>
    Task<bool> ArmAsync(Guid vmId, string operationId, SecureBootKeyDigests keys, CancellationToken cancellationToken);
}
