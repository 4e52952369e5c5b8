using System.Security.Cryptography;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Storage;
using TrustedLaunch.Vmgs.Storage;

namespace TrustedLaunch.Vmgs.Lifecycle;

/// <summary>
/// A VM's OS disk and its VMGS, managed as one: delete, snapshot and restore always act on both, so guest
/// state never outlives or drifts from its disk. Every operation holds the VMGS writer lock, so none can run
/// while the VM's tl-vtpm has the file open: a snapshot is a consistent pair by construction.
/// </summary>
public sealed record VmDiskSet(string OsDiskPath, string VmgsPath)
{
    private string JournalPath => VmgsPath + ".restore-journal";

    /// <summary>Deletes the VMGS first (it holds the secrets), then the OS disk.</summary>
    public void Delete()
    {
        RecoverInterruptedRestore();
        using (LockVmgs())
        {
            File.Delete(VmgsPath);
            File.Delete(OsDiskPath);
        }

        DurableFile.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(VmgsPath))!);
    }

    /// <summary>Copies both files into <c>snapshotsDirectory/ID/</c> under one snapshot id; the folder appears complete or not at all.</summary>
    public VmDiskSnapshot Snapshot(string snapshotsDirectory, TimeProvider? clock = null)
    {
        RecoverInterruptedRestore();
        string id = $"{(clock ?? TimeProvider.System).GetUtcNow():yyyyMMddTHHmmssZ}-{Guid.NewGuid():N}"[..32];
        Directory.CreateDirectory(snapshotsDirectory);
        string final = Path.Combine(Path.GetFullPath(snapshotsDirectory), id);
        string staging = Path.Combine(Path.GetFullPath(snapshotsDirectory), $".staging-{id}");
        Directory.CreateDirectory(staging);
        try
        {
            VmDiskSnapshot snapshot;
            using (FileBlockStorage vmgs = LockVmgs())
            {
                string vmgsName = Path.GetFileName(VmgsPath), diskName = Path.GetFileName(OsDiskPath);
                snapshot = new VmDiskSnapshot
                {
                    SnapshotId = id,
                    Directory = final,
                    CreatedUtc = (clock ?? TimeProvider.System).GetUtcNow(),
                    VmgsFile = vmgsName,
                    VmgsSha256 = CopyDurably(VmgsPath, Path.Combine(staging, vmgsName)),
                    OsDiskFile = diskName,
                    OsDiskSha256 = CopyDurably(OsDiskPath, Path.Combine(staging, diskName)),
                };
            }

            WriteDurably(Path.Combine(staging, VmDiskSnapshot.ManifestName), snapshot.ToJson());
            DurableFile.SyncDirectory(staging);
            Directory.Move(staging, final);
            DurableFile.SyncDirectory(Path.GetDirectoryName(final)!);
            return snapshot;
        }
        finally
        {
            if (Directory.Exists(staging))
                Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>
    /// Puts both files back from <paramref name="snapshot"/> after checking the copies against the manifest.
    /// A journal makes the two renames one step: an interrupted restore is finished by the next operation.
    /// </summary>
    public void Restore(VmDiskSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        RecoverInterruptedRestore();
        using (LockVmgsIfPresent())
        {
            string vmgsTemp = VmgsPath + ".restore", diskTemp = OsDiskPath + ".restore";
            if (!string.Equals(CopyDurably(snapshot.VmgsPath, vmgsTemp), snapshot.VmgsSha256, StringComparison.Ordinal) ||
                !string.Equals(CopyDurably(snapshot.OsDiskPath, diskTemp), snapshot.OsDiskSha256, StringComparison.Ordinal))
            {
                File.Delete(vmgsTemp);
                File.Delete(diskTemp);
                throw new VmDiskSetException($"Snapshot {snapshot.SnapshotId} does not match its manifest (a copy was altered); nothing was restored.");
            }

            WriteDurably(JournalPath, System.Text.Encoding.UTF8.GetBytes(snapshot.SnapshotId));
            DurableFile.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(JournalPath))!);
            CompleteRenames();
        }
    }

    /// <summary>Finishes a restore that a crash interrupted after its journal was written.</summary>
    public bool RecoverInterruptedRestore()
    {
        if (!File.Exists(JournalPath))
        {
            File.Delete(VmgsPath + ".restore"); // a restore that died before its journal: discard its copies
            File.Delete(OsDiskPath + ".restore");
            return false;
        }

        CompleteRenames();
        return true;
    }

    private void CompleteRenames()
    {
        foreach (string target in new[] { VmgsPath, OsDiskPath })
        {
            if (File.Exists(target + ".restore"))
                File.Move(target + ".restore", target, overwrite: true);
            DurableFile.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
        }

        File.Delete(JournalPath);
        DurableFile.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(JournalPath))!);
    }

    private FileBlockStorage LockVmgs() => FileBlockStorage.Open(VmgsPath, writable: true);

    private FileBlockStorage? LockVmgsIfPresent() => File.Exists(VmgsPath) ? LockVmgs() : null;

    private static string CopyDurably(string source, string destination)
    {
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var options = OwnerOnlyOptions(FileMode.Create);
        using var output = new FileStream(destination, options);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        int n;
        while ((n = input.Read(buffer)) > 0)
        {
            hash.AppendData(buffer, 0, n);
            output.Write(buffer, 0, n);
        }

        output.Flush(flushToDisk: true);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void WriteDurably(string path, byte[] content)
    {
        using var output = new FileStream(path, OwnerOnlyOptions(FileMode.Create));
        output.Write(content);
        output.Flush(flushToDisk: true);
    }

    private static FileStreamOptions OwnerOnlyOptions(FileMode mode)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return options;
    }
}
