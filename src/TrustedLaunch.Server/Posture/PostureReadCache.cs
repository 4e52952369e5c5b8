using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server.Posture.Stores;

namespace TrustedLaunch.Server.Posture;

/// <summary>
/// What a posture engine keeps between runs so that a VM that did not change costs no read of it: its record, valid while
/// the VM's <c>change_seq</c> is the one read back (a narrow read for the batch instead of every model's JSON), and its
/// stored assessments, valid while the version on <c>posture_vm_state</c> is the one they were read at (any engine's
/// batch that writes a VM's assessments counts it up, so another replica's write is seen). A version is always read
/// before the assessments it labels, so a label is never newer than what it labels. Used only inside a run (under the
/// engine's gate).
/// </summary>
internal sealed class PostureReadCache(IVirtualMachineStore machines, SqlPostureStore store)
{
    // Past this many VMs a cache starts over: a larger fleet is read as without it, not held whole.
    private const int MaxEntries = 100_000;

    private readonly Dictionary<Guid, VirtualMachineRecord> _vms = [];
    private readonly Dictionary<Guid, (long Version, Dictionary<string, StoredAssessment> Assessments)> _assessments = [];

    /// <summary>The records of those of <paramref name="vmIds"/> the control plane holds; only the changed or unknown ones are read whole.</summary>
    public async Task<Dictionary<Guid, VirtualMachineRecord>> VmsAsync(IReadOnlyCollection<Guid> vmIds, CancellationToken cancellationToken)
    {
        Dictionary<Guid, long> sequences = await store.VmChangeSequencesAsync(vmIds, cancellationToken);
        var found = new Dictionary<Guid, VirtualMachineRecord>(sequences.Count);
        var stale = new List<Guid>();
        foreach (Guid vmId in vmIds)
        {
            if (!sequences.TryGetValue(vmId, out long sequence))
                _vms.Remove(vmId);
            else if (_vms.TryGetValue(vmId, out VirtualMachineRecord? held) && held.ChangeSequence == sequence)
                found[vmId] = held;
            else
                stale.Add(vmId);
        }

        if (stale.Count > 0)
        {
            foreach (VirtualMachineRecord vm in await machines.GetByVmIdsAsync(stale, cancellationToken))
            {
                found[vm.VmId] = vm;
                Remember(vm);
            }
        }

        return found;
    }

    /// <summary>A VM record read elsewhere (changed VMs, a sweep's pages).</summary>
    public void Remember(VirtualMachineRecord vm)
    {
        if (_vms.Count >= MaxEntries && !_vms.ContainsKey(vm.VmId))
            _vms.Clear();
        _vms[vm.VmId] = vm;
    }

    /// <summary>
    /// The stored assessments of each of <paramref name="vmIds"/> by key, read only for a VM whose version in
    /// <paramref name="versions"/> (as this run read it) is not the one held; a VM with no version is always read.
    /// </summary>
    public async Task<Dictionary<Guid, Dictionary<string, StoredAssessment>>> AssessmentsAsync(IReadOnlyCollection<Guid> vmIds,
        IReadOnlyDictionary<Guid, long> versions, CancellationToken cancellationToken)
    {
        var found = new Dictionary<Guid, Dictionary<string, StoredAssessment>>(vmIds.Count);
        var stale = new List<Guid>();
        foreach (Guid vmId in vmIds)
        {
            if (versions.TryGetValue(vmId, out long version) && _assessments.TryGetValue(vmId, out var held) && held.Version == version)
                found[vmId] = held.Assessments;
            else
                stale.Add(vmId);
        }

        if (stale.Count == 0)
            return found;
        foreach ((Guid vmId, Dictionary<string, StoredAssessment> read) in await store.AssessmentsOfAsync(stale, cancellationToken))
        {
            found[vmId] = read;
            if (!versions.TryGetValue(vmId, out long version))
                _assessments.Remove(vmId);
            else
            {
                if (_assessments.Count >= MaxEntries && !_assessments.ContainsKey(vmId))
                    _assessments.Clear();
                _assessments[vmId] = (version, read);
            }
        }

        return found;
    }

    /// <summary>A batch was written: the VMs whose assessments it wrote have a new version (read again), those it removed are gone.</summary>
    public void Written(PostureBatch batch)
    {
        foreach (AssessmentWrite write in batch.Assessments)
            _assessments.Remove(write.Next.VmId);
        foreach (Guid vmId in batch.RemovedVms)
        {
            _assessments.Remove(vmId);
            _vms.Remove(vmId);
        }
    }

    /// <summary>Drops VMs the store no longer has (a sweep saw every VM).</summary>
    public void KeepOnly(HashSet<Guid> vmIds)
    {
        foreach (Guid gone in _vms.Keys.Where(id => !vmIds.Contains(id)).ToArray())
            _vms.Remove(gone);
        foreach (Guid gone in _assessments.Keys.Where(id => !vmIds.Contains(id)).ToArray())
            _assessments.Remove(gone);
    }
}
