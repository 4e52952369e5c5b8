using TrustedLaunch.Testing;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Lifecycle;
using TrustedLaunch.Vmgs.Storage;

namespace TrustedLaunch.Vmgs.Tests.Lifecycle;

public class VmDiskSetTests
{
    private static (VmDiskSet Set, string Dir) NewSet(Keys.VmgsKeyEncryptionKey kek)
    {
        string dir = RepositoryPaths.NewTempDirectory("vmgs-disk");
        var set = new VmDiskSet(Path.Combine(dir, "os.qcow2"), Path.Combine(dir, "vm.vmgs"));
        File.WriteAllBytes(set.OsDiskPath, TestKeys.Payload(3 << 20, 1));
        using (var file = VmgsFile.Create(set.VmgsPath, kek))
            file.WriteEntry(VmgsEntryId.VTpmState, TestKeys.Payload(65_536, 1));
        return (set, dir);
    }

    [Fact]
    public void SnapshotThenChangeThenRestore_BringsBackBothFilesTogether()
    {
        using var kek = TestKeys.Random();
        var (set, dir) = NewSet(kek);
        VmDiskSnapshot snapshot = set.Snapshot(Path.Combine(dir, "snapshots"));
        Assert.Equal(snapshot.SnapshotId, VmDiskSnapshot.Load(snapshot.Directory).SnapshotId);
        File.WriteAllBytes(set.OsDiskPath, TestKeys.Payload(1 << 20, 2));
        using (var file = VmgsFile.Open(set.VmgsPath, kek, writable: true))
            file.WriteEntry(VmgsEntryId.VTpmState, TestKeys.Payload(65_536, 2));

        set.Restore(VmDiskSnapshot.Load(snapshot.Directory));
        Assert.Equal(TestKeys.Payload(3 << 20, 1), File.ReadAllBytes(set.OsDiskPath));
        using var restored = VmgsFile.Open(set.VmgsPath, kek, writable: false);
        Assert.Equal(TestKeys.Payload(65_536, 1), restored.ReadEntry(VmgsEntryId.VTpmState));
        Assert.False(File.Exists(set.VmgsPath + ".restore-journal"));
    }

    [Fact]
    public void Snapshot_WhileVmgsHasAWriter_IsRefused()
    {
        using var kek = TestKeys.Random();
        var (set, dir) = NewSet(kek);
        using var running = VmgsFile.Open(set.VmgsPath, kek, writable: true);
        Assert.Throws<VmgsFileInUseException>(() => set.Snapshot(Path.Combine(dir, "snapshots")));
        Assert.Empty(Directory.GetDirectories(Path.Combine(dir, "snapshots")));
        Assert.Throws<VmgsFileInUseException>(set.Delete);
        Assert.True(File.Exists(set.OsDiskPath));
    }

    [Fact]
    public void Restore_AlteredSnapshotCopy_RefusesAndChangesNothing()
    {
        using var kek = TestKeys.Random();
        var (set, dir) = NewSet(kek);
        VmDiskSnapshot snapshot = set.Snapshot(Path.Combine(dir, "snapshots"));
        File.WriteAllBytes(set.OsDiskPath, [7]);
        using (var stream = new FileStream(snapshot.OsDiskPath, FileMode.Open))
        {
            stream.Position = 1000;
            stream.WriteByte(0xFF);
        }

        Assert.Throws<VmDiskSetException>(() => set.Restore(snapshot));
        Assert.Equal([7], File.ReadAllBytes(set.OsDiskPath));
    }

    [Fact]
    public void RestoreInterruptedAfterJournal_IsFinishedByTheNextOperation()
    {
        using var kek = TestKeys.Random();
        var (set, dir) = NewSet(kek);
        VmDiskSnapshot snapshot = set.Snapshot(Path.Combine(dir, "snapshots"));
        // The state a crash leaves after the journal was written and the VMGS (but not the disk) was renamed.
        File.WriteAllBytes(set.OsDiskPath, [1, 2, 3]);
        File.Copy(snapshot.OsDiskPath, set.OsDiskPath + ".restore");
        File.WriteAllText(set.VmgsPath + ".restore-journal", snapshot.SnapshotId);
        Assert.True(set.RecoverInterruptedRestore());
        Assert.Equal(File.ReadAllBytes(snapshot.OsDiskPath), File.ReadAllBytes(set.OsDiskPath));
        Assert.False(File.Exists(set.VmgsPath + ".restore-journal"));
    }

    [Fact]
    public void Delete_RemovesBothFiles()
    {
        using var kek = TestKeys.Random();
        var (set, _) = NewSet(kek);
        set.Delete();
        Assert.False(File.Exists(set.VmgsPath));
        Assert.False(File.Exists(set.OsDiskPath));
    }
}
