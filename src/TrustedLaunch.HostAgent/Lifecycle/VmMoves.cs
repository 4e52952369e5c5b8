using System.Security.Cryptography;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.HostAgent.Lifecycle;

/// <summary>The durable steps of a move, in order: a caller (a test) can stop the move after any of them.</summary>
public enum MoveStep
{
    Verified,
    TargetInPlace,
    SourceGone,
    Done,
}

/// <summary>
/// Cold migration of a stopped VM's files to another host's data folder (docs/lifecycle.md): the VMGS keeps every entry —
/// the vTPM and so the identity — re-keyed from the source host's key to the target's; the source copy is destroyed only
/// after the target's copy is complete and verified. The commit point is one rename of the source folder away: before it
/// the source is the VM and the target copy (marked <c>move-in.json</c>) is discarded by <see cref="Recover"/>; after it
/// the target is the VM. A move cut short at any point therefore leaves exactly one usable copy once recovered.
/// </summary>
public static class VmMoves
{
    public const string IncomingMarker = "move-in.json";
    private const string MovedPrefix = ".moved-";

    /// <summary>Moves <paramref name="source"/> (stopped) to <paramref name="target"/> (the same VM id on the other host).</summary>
    /// <exception cref="VmLifecycleException">Running, missing, the target exists, or the copy fails its checks (the source stays).</exception>
    public static void Move(VmFolder source, string sourceHostKey, VmFolder target, string targetHostKey, Action<MoveStep>? step = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        Recover(source, target);
        if (!source.Exists)
            throw new VmLifecycleException(VmLifecycleException.NotFound, $"Virtual machine {source.VmId} has no files on the source host.");
        if (target.Exists)
            throw new VmLifecycleException(VmLifecycleException.Exists, $"Virtual machine {target.VmId} has files on the target host already.");
        VmSnapshots.CompleteRestore(source);
        VmSnapshots.RefuseRunning(source, "move");
        using (VmgsKeyEncryptionKey? fromKey = source.HasVmgs ? VmgsKeyEncryptionKey.Load(sourceHostKey) : null)
        using (VmgsKeyEncryptionKey? toKey = source.HasVmgs ? VmgsKeyEncryptionKey.Load(targetHostKey) : null)
        using (VmgsFile? held = fromKey is null ? null : VmSnapshots.Hold(source, fromKey, "move")) // nothing changes while it is copied
        {
            target.Create(staging =>
            {
                string disk = Path.Combine(staging, VmFolder.DiskName);
                File.Copy(source.Disk, disk);
                using (var handle = File.OpenHandle(disk, FileMode.Open, FileAccess.Write))
                    RandomAccess.FlushToDisk(handle);
                if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(File.ReadAllBytes(source.Disk)), SHA256.HashData(File.ReadAllBytes(disk))))
                    throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"The copy of {source.Disk} differs from it.");
                if (held is not null)
                {
                    string vmgs = Path.Combine(staging, VmFolder.VmgsName);
                    ReKey(held, vmgs, toKey!);
                    // The target verifies what it received under its own key: every entry authenticates and names this VM.
                    VmSnapshots.CheckGuestState(vmgs, targetHostKey, source.VmId, $"The moved copy of VM {source.VmId}");
                }

                step?.Invoke(MoveStep.Verified);
                DurableFile.Write(Path.Combine(staging, IncomingMarker), [], overwrite: false);
            });
        }

        step?.Invoke(MoveStep.TargetInPlace);
        string parent = Path.GetDirectoryName(source.Path)!;
        Directory.Move(source.Path, Path.Combine(parent, MovedPrefix + source.VmId.ToString("N"))); // the commit point
        DurableFile.SyncDirectory(parent);
        step?.Invoke(MoveStep.SourceGone);
        Recover(source, target);
        step?.Invoke(MoveStep.Done);
    }

    /// <summary>Finishes or undoes a move cut short, so that exactly one of the two folders is the VM (<see cref="Usable"/>).</summary>
    public static void Recover(VmFolder source, VmFolder target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        string incoming = Path.Combine(target.Path, IncomingMarker);
        if (target.Exists && File.Exists(incoming))
        {
            if (source.Exists)
            {
                Directory.Delete(target.Path, recursive: true); // not committed: the source is the VM
                DurableFile.SyncDirectory(Path.GetDirectoryName(target.Path)!);
            }
            else
            {
                File.Delete(incoming); // committed: the target is the VM
                DurableFile.SyncDirectory(target.Path);
            }
        }

        string moved = Path.Combine(Path.GetDirectoryName(source.Path)!, MovedPrefix + source.VmId.ToString("N"));
        if (Directory.Exists(moved) && !(target.Exists && File.Exists(incoming)))
            Directory.Delete(moved, recursive: true); // the source copy, destroyed only now that the target is the VM
        string staging = Path.Combine(Path.GetDirectoryName(target.Path)!, ".creating-" + target.VmId.ToString("N"));
        if (Directory.Exists(staging))
            Directory.Delete(staging, recursive: true);
    }

    /// <summary>A folder that is a VM: present and not an unfinished incoming copy.</summary>
    public static bool Usable(VmFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        return folder.Exists && !File.Exists(Path.Combine(folder.Path, IncomingMarker));
    }

    /// <summary>The same entries (vTPM, UEFI variables, identity) in a new VMGS under <paramref name="targetKey"/>.</summary>
    private static void ReKey(VmgsFile source, string destination, VmgsKeyEncryptionKey targetKey)
    {
        var entries = source.Header.Entries.Select(e => (e.Id, Data: source.ReadEntry(e.Id)!)).ToList();
        VmgsFile.CreateWith(destination, targetKey, file =>
        {
            foreach ((VmgsEntryId id, byte[] data) in entries)
                file.WriteEntry(id, data);
        });
    }
}
