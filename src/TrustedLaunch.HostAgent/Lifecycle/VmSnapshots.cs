using System.Security.Cryptography;
using System.Text.Json;
using TrustedLaunch.HostAgent.GuestState;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Runtime.GuestState;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;
using TrustedLaunch.Vmgs.Storage;

namespace TrustedLaunch.HostAgent.Lifecycle;

/// <summary>
/// Snapshots of a VM's OS disk and VMGS as one crash-consistent pair (docs/lifecycle.md), in
/// <c>TL_HOME/snapshots/&lt;id&gt;/</c>: taken while holding the VMGS writer lock, so no vTPM writes between the two copies
/// (a running VM's tl-vtpm holds that lock, and the VM is refused); restored into the same VM with both files replaced
/// at one commit point; copied into a new VM whose vTPM is freshly manufactured. Every file is checked against the
/// manifest's SHA-256, and every VMGS must authenticate under the host's key, before anything is replaced or made.
/// </summary>
public static class VmSnapshots
{
    public const string ManifestName = "snapshot.json";
    private const string CreatingPrefix = ".creating-";
    private const string RestoreStaging = ".restoring";
    private const string RestoreReady = "ready";

    /// <summary>Takes the pair of a stopped or deallocated VM into <paramref name="snapshotsDirectory"/>/&lt;id&gt;.</summary>
    /// <exception cref="VmLifecycleException">The VM is running or missing, its VMGS does not open, or the snapshot exists.</exception>
    public static SnapshotManifest Take(VmFolder vm, string snapshotsDirectory, Guid snapshotId, string hostKeyPath, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return Publish(vm, snapshotsDirectory, snapshotId, now, refuseRunning: true, staging =>
        {
            // The writer lock for the whole copy: neither file can change between the two copies (one instant).
            using VmgsKeyEncryptionKey? kek = vm.HasVmgs ? LoadKey(hostKeyPath) : null;
            using VmgsFile? held = kek is null ? null : Hold(vm, kek, "snapshot");
            SnapshotFile disk = CopyHashed(vm.Disk, Path.Combine(staging, VmFolder.DiskName), expected: null);
            SnapshotFile? vmgs = held is null ? null : CopyHashed(vm.Vmgs, Path.Combine(staging, VmFolder.VmgsName), expected: null);
            return (disk, vmgs, held?.Header.Sequence);
        });
    }

    /// <summary>
    /// Takes the pair of a <b>running</b> VM, called while its guest is paused and its tl-vtpm is between commands
    /// (<c>VirtualMachine.RunPausedAsync</c>): tl-vtpm holds the VMGS writer lock, but no write of it runs, so the VMGS is copied as
    /// it is and then checked — the live file must still hash as the copy (nothing wrote it meanwhile), and the copy must
    /// authenticate under the host's key and name the VM. <paramref name="variableStore"/> (the guest's UEFI variables as QEMU's
    /// flash has them now, when they changed since the start) replaces the copy's <c>uefi-nvram</c> entry, as the write-back at the
    /// VM's end would.
    /// </summary>
    /// <exception cref="VmLifecycleException">The VM is missing, its VMGS changed during the copy or does not authenticate, or the snapshot exists.</exception>
    public static SnapshotManifest TakeRunning(VmFolder vm, string snapshotsDirectory, Guid snapshotId, string hostKeyPath, DateTimeOffset now,
        byte[]? variableStore)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return Publish(vm, snapshotsDirectory, snapshotId, now, refuseRunning: false, staging =>
        {
            SnapshotFile disk = CopyHashed(vm.Disk, Path.Combine(staging, VmFolder.DiskName), expected: null);
            if (!vm.HasVmgs)
                return (disk, null, null);
            string copy = Path.Combine(staging, VmFolder.VmgsName);
            SnapshotFile vmgs = CopyHashed(vm.Vmgs, copy, expected: null);
            if (!CryptographicOperations.FixedTimeEquals(Convert.FromHexString(HashOf(vm.Vmgs)), Convert.FromHexString(vmgs.Sha256)))
            {
                throw new VmLifecycleException(VmLifecycleException.IntegrityFailed,
                    $"The guest state of virtual machine {vm.VmId} changed while it was copied (the vTPM was not between commands); no snapshot was taken.");
            }

            using VmgsKeyEncryptionKey kek = LoadKey(hostKeyPath);
            ulong sequence;
            using (VmgsFile file = OpenCopy(copy, kek, vm.VmId, writable: variableStore is not null))
            {
                if (variableStore is not null)
                    file.WriteEntry(VmgsEntryId.UefiNvram, variableStore); // the atomic entry replace, as the write-back at the end does
                sequence = file.Header.Sequence;
            }

            CheckGuestState(copy, hostKeyPath, vm.VmId, $"The running snapshot of virtual machine {vm.VmId}");
            return (disk, vmgs with { Length = new FileInfo(copy).Length, Sha256 = HashOf(copy) }, sequence);
        });
    }

    private static SnapshotManifest Publish(VmFolder vm, string snapshotsDirectory, Guid snapshotId, DateTimeOffset now, bool refuseRunning,
        Func<string, (SnapshotFile Disk, SnapshotFile? Vmgs, ulong? Sequence)> copyPair)
    {
        if (!vm.Exists)
            throw new VmLifecycleException(VmLifecycleException.NotFound, $"Virtual machine {vm.VmId} has no files on this host.");
        if (refuseRunning)
        {
            CompleteRestore(vm);
            RefuseRunning(vm, "snapshot");
        }

        string target = Folder(snapshotsDirectory, snapshotId);
        if (Directory.Exists(target))
            throw new VmLifecycleException(VmLifecycleException.Exists, $"Snapshot {snapshotId} exists.");
        CreatePrivateDirectory(snapshotsDirectory);
        string staging = Path.Combine(snapshotsDirectory, CreatingPrefix + snapshotId.ToString("N"));
        if (Directory.Exists(staging))
            Directory.Delete(staging, recursive: true);
        CreatePrivateDirectory(staging);
        try
        {
            (SnapshotFile disk, SnapshotFile? vmgs, ulong? sequence) = copyPair(staging);
            var manifest = new SnapshotManifest
            {
                SnapshotId = snapshotId, SourceVmId = vm.VmId, TakenAt = now, Disk = disk, Vmgs = vmgs, VmgsSequence = sequence,
            };
            DurableFile.Write(Path.Combine(staging, ManifestName), JsonSerializer.SerializeToUtf8Bytes(manifest, SnapshotJson.Default.SnapshotManifest), overwrite: false, ownerOnly: true);
            DurableFile.SyncDirectory(staging);
            Directory.Move(staging, target);
            DurableFile.SyncDirectory(snapshotsDirectory);
            return manifest;
        }
        catch
        {
            if (Directory.Exists(staging))
                Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    private static VmgsFile OpenCopy(string copy, VmgsKeyEncryptionKey kek, Guid vmId, bool writable)
    {
        try
        {
            return VmgsFile.Open(copy, kek, writable);
        }
        catch (VmgsException e)
        {
            throw new VmLifecycleException(VmLifecycleException.IntegrityFailed,
                $"The copy of virtual machine {vmId}'s guest state does not open with this host's key ({e.Message}); no snapshot was taken.", e);
        }
    }

    private static string HashOf(string path)
    {
        using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        return Convert.ToHexStringLower(SHA256.HashData(input));
    }

    /// <summary>
    /// Rolls the VM's disk and VMGS back to the snapshot, together: both are staged and checked (hashes, the VMGS authenticates
    /// and names this VM), a durable marker commits the pair, then both are moved into place. A restore cut short before the
    /// marker leaves the old pair, after it the next start (or lifecycle verb) finishes it: never a disk of one and a VMGS of the other.
    /// </summary>
    /// <exception cref="VmLifecycleException">Running, another VM's snapshot, or the snapshot fails its checks (nothing replaced).</exception>
    public static SnapshotManifest Restore(VmFolder vm, string snapshotDirectory, string hostKeyPath)
    {
        ArgumentNullException.ThrowIfNull(vm);
        SnapshotManifest manifest = ReadManifest(snapshotDirectory);
        if (manifest.SourceVmId != vm.VmId)
        {
            throw new VmLifecycleException(VmLifecycleException.OtherVm,
                $"Snapshot {manifest.SnapshotId} is of virtual machine {manifest.SourceVmId}, not {vm.VmId}: a snapshot is restored into its own VM only; create a new VM from it instead (it gets its own vTPM).");
        }

        if (!vm.Exists)
            throw new VmLifecycleException(VmLifecycleException.NotFound, $"Virtual machine {vm.VmId} has no files on this host.");
        CompleteRestore(vm);
        RefuseRunning(vm, "restore");
        string staging = Path.Combine(vm.Path, RestoreStaging);
        if (Directory.Exists(staging))
            Directory.Delete(staging, recursive: true);
        CreatePrivateDirectory(staging);
        try
        {
            CopyHashed(Path.Combine(snapshotDirectory, manifest.Disk.Name), Path.Combine(staging, VmFolder.DiskName), manifest.Disk);
            if (manifest.Vmgs is { } vmgs)
            {
                string staged = Path.Combine(staging, VmFolder.VmgsName);
                CopyHashed(Path.Combine(snapshotDirectory, vmgs.Name), staged, vmgs);
                CheckGuestState(staged, hostKeyPath, vm.VmId, $"Snapshot {manifest.SnapshotId}");
            }

            DurableFile.Write(Path.Combine(staging, RestoreReady), [], overwrite: false); // the commit point
            DurableFile.SyncDirectory(staging);
        }
        catch
        {
            Directory.Delete(staging, recursive: true);
            throw;
        }

        CompleteRestore(vm);
        return manifest;
    }

    /// <summary>
    /// A new VM from a snapshot: the disk is copied, the UEFI variables are copied, and the vTPM is freshly manufactured for
    /// <paramref name="target"/>'s VM id (new EK and AK certificates): a copy never shares its source's identity.
    /// </summary>
    /// <returns>The new vTPM's identity (null without one).</returns>
    public static VTpmIdentity? CreateVm(string snapshotDirectory, VmFolder target, string hostKeyPath, Func<IPlatformCa> platformCa)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(platformCa);
        SnapshotManifest manifest = ReadManifest(snapshotDirectory);
        if (target.Exists)
            throw new VmLifecycleException(VmLifecycleException.Exists, $"Virtual machine {target.VmId} has files on this host already.");
        VTpmIdentity? identity = null;
        target.Create(staging =>
        {
            CopyHashed(Path.Combine(snapshotDirectory, manifest.Disk.Name), Path.Combine(staging, VmFolder.DiskName), manifest.Disk);
            if (manifest.Vmgs is not { } vmgs)
                return;
            string source = Path.Combine(staging, ".source.vmgs");
            try
            {
                CopyHashed(Path.Combine(snapshotDirectory, vmgs.Name), source, vmgs);
                CheckGuestState(source, hostKeyPath, manifest.SourceVmId, $"Snapshot {manifest.SnapshotId}");
            }
            catch (VmLifecycleException e) when (e.Code == VmLifecycleException.IntegrityFailed)
            {
                // Its vTPM state cannot be used: refused as Azure refuses a snapshot whose vTPM state is locked (never a fresh vTPM in its place).
                throw new VmLifecycleException(VmLifecycleException.VTpmStateLocked, e.Message, e);
            }

            using VmgsKeyEncryptionKey kek = LoadKey(hostKeyPath);
            identity = GuestStateProvisioner.CreateCopy(Path.Combine(staging, VmFolder.VmgsName), kek, target.VmId, source, platformCa());
            File.Delete(source);
        });
        return identity;
    }

    /// <summary>The snapshots in <paramref name="snapshotsDirectory"/> (complete ones only; a creation cut short is not one).</summary>
    public static IReadOnlyList<SnapshotManifest> List(string snapshotsDirectory)
    {
        if (!Directory.Exists(snapshotsDirectory))
            return [];
        return [.. Directory.EnumerateDirectories(snapshotsDirectory)
            .Where(d => !Path.GetFileName(d).StartsWith('.') && File.Exists(Path.Combine(d, ManifestName)))
            .Select(ReadManifest)
            .OrderBy(m => m.TakenAt)];
    }

    public static void Delete(string snapshotsDirectory, Guid snapshotId)
    {
        string folder = Folder(snapshotsDirectory, snapshotId);
        if (!Directory.Exists(folder))
            throw new VmLifecycleException(VmLifecycleException.NotFound, $"Snapshot {snapshotId} does not exist.");
        Directory.Delete(folder, recursive: true);
        DurableFile.SyncDirectory(snapshotsDirectory);
    }

    public static string Folder(string snapshotsDirectory, Guid snapshotId) => Path.Combine(snapshotsDirectory, snapshotId.ToString("N"));

    /// <summary>Finishes a restore that reached its commit point, or drops one that did not (see <see cref="Restore"/>).</summary>
    public static void CompleteRestore(VmFolder vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        string staging = Path.Combine(vm.Path, RestoreStaging);
        if (!Directory.Exists(staging))
            return;
        if (File.Exists(Path.Combine(staging, RestoreReady)))
        {
            foreach (string name in new[] { VmFolder.DiskName, VmFolder.VmgsName })
            {
                string staged = Path.Combine(staging, name);
                if (File.Exists(staged))
                    File.Move(staged, Path.Combine(vm.Path, name), overwrite: true);
            }

            DurableFile.SyncDirectory(vm.Path);
        }

        Directory.Delete(staging, recursive: true);
        DurableFile.SyncDirectory(vm.Path);
    }

    public static SnapshotManifest ReadManifest(string snapshotDirectory)
    {
        string path = Path.Combine(snapshotDirectory, ManifestName);
        if (!File.Exists(path))
            throw new VmLifecycleException(VmLifecycleException.NotFound, $"{snapshotDirectory} is not a snapshot (no {ManifestName}).");
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), SnapshotJson.Default.SnapshotManifest)
                ?? throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"{path} is not a snapshot manifest: {e.Message}", e);
        }
    }

    /// <summary>A VM whose QEMU or tl-vtpm may run (its run folder exists) is refused: a running VM is not snapshotted here yet.</summary>
    internal static void RefuseRunning(VmFolder vm, string verb)
    {
        if (Directory.Exists(vm.RunDirectory))
        {
            throw new VmLifecycleException(VmLifecycleException.VmRunning,
                $"Operation '{verb}' is not allowed on virtual machine {vm.VmId} since the VM is running. Stop or deallocate it first.");
        }
    }

    internal static VmgsFile Hold(VmFolder vm, VmgsKeyEncryptionKey kek, string verb)
    {
        try
        {
            return VmgsFile.Open(vm.Vmgs, kek, writable: true);
        }
        catch (VmgsFileInUseException e)
        {
            throw new VmLifecycleException(VmLifecycleException.VmRunning,
                $"Operation '{verb}' is not allowed on virtual machine {vm.VmId} since its guest state is in use ({e.Message}). Stop or deallocate it first.", e);
        }
        catch (VmgsException e)
        {
            throw new VmLifecycleException(VmLifecycleException.IntegrityFailed,
                $"The guest state of virtual machine {vm.VmId} does not open with this host's key ({e.Message}); a snapshot of it would not restore.", e);
        }
    }

    internal static void CheckGuestState(string vmgs, string hostKeyPath, Guid expectedVmId, string what)
    {
        VmgsGuestState state;
        try
        {
            state = VmgsGuestState.Open(vmgs, hostKeyPath, requireVTpm: false);
        }
        catch (VmgsGuestStateException e)
        {
            throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"{what}: its guest state fails authentication: {e.Message}", e);
        }

        if (!Guid.TryParse(state.VmId, out Guid id) || id != expectedVmId)
            throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"{what}: its guest state names VM {state.VmId}, not {expectedVmId}.");
    }

    private static VmgsKeyEncryptionKey LoadKey(string hostKeyPath) => VmgsKeyEncryptionKey.Load(hostKeyPath);

    /// <summary>Copies and hashes in one pass, fsyncs the copy (mode 0600); with <paramref name="expected"/>, a mismatch is refused.</summary>
    private static SnapshotFile CopyHashed(string source, string destination, SnapshotFile? expected)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long length = 0;
        using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16))
        using (var output = new FileStream(destination, OwnerOnlyFile.WriteOptions(FileMode.CreateNew)))
        {
            byte[] buffer = new byte[1 << 20];
            int n;
            while ((n = input.Read(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                output.Write(buffer, 0, n);
                length += n;
            }

            output.Flush(flushToDisk: true);
        }

        var copied = new SnapshotFile(Path.GetFileName(destination), length, Convert.ToHexStringLower(hash.GetHashAndReset()));
        if (expected is not null && (expected.Length != copied.Length || !CryptographicOperations.FixedTimeEquals(
                Convert.FromHexString(expected.Sha256), Convert.FromHexString(copied.Sha256))))
        {
            throw new VmLifecycleException(VmLifecycleException.IntegrityFailed,
                $"{source} is not the file the snapshot recorded (SHA-256 {copied.Sha256}, {copied.Length} bytes; recorded {expected.Sha256}, {expected.Length} bytes).");
        }

        return expected is null ? copied : copied with { Name = expected.Name };
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(path);
        else
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
