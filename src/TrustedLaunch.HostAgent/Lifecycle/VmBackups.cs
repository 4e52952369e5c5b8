using System.Globalization;
using System.Security.Cryptography;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Storage;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.HostAgent.Lifecycle;

/// <summary>
/// Backups of a stopped VM's OS disk and VMGS (docs/lifecycle.md): one encrypted, self-describing archive file per backup
/// (<see cref="BackupArchive"/>) in a directory, under a backup key (a 256-bit key file: <c>tl vmgs keygen</c>). The VMGS
/// inside stays wrapped by the host's key as well, so the archive restores on the host that took it (a move re-keys it for
/// another host). A restore decrypts into a hidden VM folder, checks every file and that the VMGS authenticates and names
/// the VM, and only then renames it into place: an archive that fails any check never becomes a VM.
/// </summary>
public static class VmBackups
{
    public const string Extension = ".tlbackup";

    /// <summary>Writes the archive of a stopped or deallocated VM into <paramref name="directory"/>; returns its path and header.</summary>
    /// <exception cref="VmLifecycleException">The VM is running or missing, or its VMGS does not open with the host's key.</exception>
    /// <exception cref="SealingKeyException">The backup key file is missing, too open or not a 256-bit key.</exception>
    public static (string Path, BackupHeader Header) Create(VmFolder vm, string directory, string backupKeyPath, string hostKeyPath, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(vm);
        if (!vm.Exists)
            throw new VmLifecycleException(VmLifecycleException.NotFound, $"Virtual machine {vm.VmId} has no files on this host.");
        VmSnapshots.CompleteRestore(vm);
        VmSnapshots.RefuseRunning(vm, "backup");
        SealingKey backupKey = SealingKey.Load(backupKeyPath);
        Directory.CreateDirectory(directory);
        var backupId = Guid.NewGuid();
        string path = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{vm.VmId:N}-{now:yyyyMMddTHHmmssZ}-{backupId:N}{Extension}"));
        using VmgsKeyEncryptionKey? kek = vm.HasVmgs ? VmgsKeyEncryptionKey.Load(hostKeyPath) : null;
        using VmgsFile? held = kek is null ? null : VmSnapshots.Hold(vm, kek, "backup"); // one instant for both files
        var sources = new List<(string Name, string Path)> { (VmFolder.DiskName, vm.Disk) };
        if (held is not null)
            sources.Add((VmFolder.VmgsName, vm.Vmgs));
        var header = new BackupHeader
        {
            BackupId = backupId, VmId = vm.VmId, CreatedAt = now, ChunkSize = BackupArchive.DefaultChunkSize,
            KeyCheck = Convert.ToHexStringLower(backupKey.KeyCheckValue), VmgsSequence = held?.Header.Sequence,
            Files = [.. sources.Select(s => Describe(s.Name, s.Path))],
        };
        byte[] key = new byte[SealingKey.KeyLength];
        backupKey.CopyTo(key);
        try
        {
            DurableFile.Publish(path, overwrite: false, temporary =>
            {
                using var output = new FileStream(temporary, OwnerOnlyFile.WriteOptions(FileMode.CreateNew));
                var inputs = sources.Select(s => (Stream)new FileStream(s.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16)).ToList();
                try
                {
                    BackupArchive.Write(output, header, key, inputs);
                }
                finally
                {
                    inputs.ForEach(i => i.Dispose());
                }
            });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        return (path, header);
    }

    /// <summary>The archives in <paramref name="directory"/> (headers only: nothing is decrypted), oldest first.</summary>
    public static IReadOnlyList<(string Path, BackupHeader Header)> List(string directory)
    {
        if (!Directory.Exists(directory))
            return [];
        var found = new List<(string, BackupHeader)>();
        foreach (string path in Directory.EnumerateFiles(directory, "*" + Extension))
        {
            using var input = File.OpenRead(path);
            found.Add((path, BackupArchive.ReadHeader(input, path).Header));
        }

        return [.. found.OrderBy(f => f.Item2.CreatedAt)];
    }

    /// <summary>
    /// Makes the VM's folder again from <paramref name="archive"/>, with its original identity (the VMGS as it was). Refused,
    /// with the reason and nothing made, when the VM's folder exists, the key is not the archive's, any chunk fails
    /// authentication, a file is not what the header recorded, or the VMGS does not authenticate under the host's key.
    /// </summary>
    public static BackupHeader Restore(string archive, string backupKeyPath, string vmsDirectory, string runRoot, string hostKeyPath) =>
        Restore(archive, backupKeyPath, hostKeyPath, header =>
        {
            var vm = new VmFolder(vmsDirectory, runRoot, header.VmId);
            if (vm.Exists)
                throw new VmLifecycleException(VmLifecycleException.Exists, $"Virtual machine {header.VmId} has files on this host: delete it first, or restore a snapshot into it.");
            return vm;
        });

    /// <summary>
    /// Restores <paramref name="archive"/> as a detached disk (<c>TL_HOME/detached/&lt;diskName&gt;-&lt;diskId:N&gt;</c>), the form the control
    /// plane lands as a <c>Microsoft.Compute/disks</c> resource (<c>tl backup restore --disk</c>): built and checked like a VM folder's
    /// restore (in <c>detached/.restoring/</c>), then renamed into place. The vTPM is the backed-up one; the VM it names has no folder here.
    /// </summary>
    public static (BackupHeader Header, string Folder) RestoreAsDisk(string archive, string backupKeyPath, string detachedDirectory, string diskName,
        Guid diskId, string hostKeyPath)
    {
        string target = VmFolder.DetachedFolder(detachedDirectory, diskName, diskId);
        if (Directory.Exists(target))
            throw new VmLifecycleException(VmLifecycleException.Exists, $"{target} exists: the disk {diskName} has files on this host already.");
        string staging = Path.Combine(detachedDirectory, ".restoring");
        VmFolder? built = null;
        BackupHeader header = Restore(archive, backupKeyPath, hostKeyPath, h =>
        {
            built = new VmFolder(staging, staging, h.VmId);
            if (built.Exists)
                Directory.Delete(built.Path, recursive: true); // a restore cut short before its rename: never a disk
            return built;
        });
        Directory.Move(built!.Path, target);
        DurableFile.SyncDirectory(detachedDirectory);
        return (header, target);
    }

    private static BackupHeader Restore(string archive, string backupKeyPath, string hostKeyPath, Func<BackupHeader, VmFolder> place)
    {
        SealingKey backupKey = SealingKey.Load(backupKeyPath);
        using var input = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        (BackupHeader header, byte[] headHash) = BackupArchive.ReadHeader(input, archive);
        string keyCheck = Convert.ToHexStringLower(backupKey.KeyCheckValue);
        if (!CryptographicOperations.FixedTimeEquals(Convert.FromHexString(keyCheck), Convert.FromHexString(header.KeyCheck)))
        {
            throw new VmLifecycleException(VmLifecycleException.IntegrityFailed,
                $"{archive} was written with another backup key (key check {header.KeyCheck}; {backupKeyPath} is {keyCheck}).");
        }

        VmFolder vm = place(header);
        byte[] key = new byte[SealingKey.KeyLength];
        backupKey.CopyTo(key);
        try
        {
            vm.Create(staging =>
            {
                for (int i = 0; i < header.Files.Count; i++)
                {
                    SnapshotFile file = header.Files[i];
                    if (file.Name is not (VmFolder.DiskName or VmFolder.VmgsName))
                        throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"{archive} holds a file named '{file.Name}', which no VM folder has.");
                    byte[] sha;
                    using (var output = new FileStream(Path.Combine(staging, file.Name), OwnerOnlyFile.WriteOptions(FileMode.CreateNew)))
                    {
                        sha = BackupArchive.ReadFile(input, header, headHash, key, i, output, archive);
                        output.Flush(flushToDisk: true);
                    }

                    if (!CryptographicOperations.FixedTimeEquals(sha, Convert.FromHexString(file.Sha256)))
                        throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"{archive}: {file.Name} is not the file the header recorded (SHA-256 differs).");
                }

                if (header.Files.Any(f => f.Name == VmFolder.VmgsName))
                    VmSnapshots.CheckGuestState(Path.Combine(staging, VmFolder.VmgsName), hostKeyPath, header.VmId, $"Backup {archive}");
            });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        return header;
    }

    private static SnapshotFile Describe(string name, string path)
    {
        using var stream = File.OpenRead(path);
        return new SnapshotFile(name, stream.Length, Convert.ToHexStringLower(SHA256.HashData(stream)));
    }
}
