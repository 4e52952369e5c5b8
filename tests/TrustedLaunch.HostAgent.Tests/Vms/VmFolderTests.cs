using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.Testing;

namespace TrustedLaunch.HostAgent.Tests.Vms;

/// <summary>A VM's folder on its host: made atomically, listed by VM id, deleted or detached with its VM, its applied state kept.</summary>
public sealed class VmFolderTests
{
    private static (string Vms, VmFolder Folder) NewFolder()
    {
        string root = RepositoryPaths.NewTempDirectory("tl-vmfolder");
        string vms = Path.Combine(root, "vms");
        return (vms, new VmFolder(vms, Path.Combine(root, "run"), Guid.NewGuid()));
    }

    [Fact]
    public void Create_BuildFails_NoFolderAndNoStagingLeft()
    {
        (string vms, VmFolder folder) = NewFolder();

        Assert.Throws<IOException>(() => folder.Create(staging =>
        {
            File.WriteAllText(Path.Combine(staging, VmFolder.DiskName), "half");
            throw new IOException("qemu-img failed");
        }));

        Assert.False(folder.Exists);
        Assert.Empty(Directory.EnumerateFileSystemEntries(vms));
    }

    [Fact]
    public void Create_Built_AppearsWholeOwnerOnly_AndIsListed()
    {
        (string vms, VmFolder folder) = NewFolder();

        folder.Create(staging => File.WriteAllText(Path.Combine(staging, VmFolder.DiskName), "disk"));

        Assert.True(File.Exists(folder.Disk));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder.Path));
        Assert.Equal([folder.VmId], VmFolder.List(vms));
    }

    [Fact]
    public void List_LeftoverOfACutShortCreation_Removed()
    {
        (string vms, VmFolder folder) = NewFolder();
        Directory.CreateDirectory(Path.Combine(vms, ".creating-" + Guid.NewGuid().ToString("N")));
        Directory.CreateDirectory(Path.Combine(vms, "not-a-vm"));
        folder.Create(_ => { });

        IReadOnlyList<Guid> listed = VmFolder.List(vms);

        Assert.Equal([folder.VmId], listed);
        Assert.DoesNotContain(Directory.EnumerateDirectories(vms), d => Path.GetFileName(d).StartsWith(".creating-", StringComparison.Ordinal));
    }

    [Fact]
    public void Detach_KeepsDiskAndVmgs_RemovesTheRest()
    {
        (string vms, VmFolder folder) = NewFolder();
        folder.Create(staging =>
        {
            File.WriteAllText(Path.Combine(staging, VmFolder.DiskName), "disk");
            File.WriteAllText(Path.Combine(staging, VmFolder.VmgsName), "vmgs");
            File.WriteAllText(Path.Combine(staging, VmFolder.ConsoleName), "console");
        });
        string detachedRoot = Path.Combine(Path.GetDirectoryName(vms)!, "detached");

        string kept = folder.Detach(detachedRoot, "vm1_OsDisk_1", folder.VmId);

        Assert.False(folder.Exists);
        Assert.Equal(VmFolder.DetachedFolder(detachedRoot, "vm1_OsDisk_1", folder.VmId), kept);
        Assert.Equal([VmFolder.DiskName, VmFolder.VmgsName], Directory.EnumerateFiles(kept).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // A new VM attaching the disk takes the folder in place (one rename): the same files, the detached folder gone.
        long size = new FileInfo(Path.Combine(kept, VmFolder.DiskName)).Length;
        var next = new VmFolder(vms, Path.Combine(Path.GetDirectoryName(vms)!, "run"), Guid.NewGuid());
        next.Adopt(kept);
        Assert.True(next.Exists);
        Assert.False(Directory.Exists(kept));
        Assert.Equal("vmgs", File.ReadAllText(next.Vmgs));
        Assert.Equal(size, new FileInfo(next.Disk).Length);
    }

    [Fact]
    public void Applied_WrittenAndReadBack_MissingIsNull()
    {
        (_, VmFolder folder) = NewFolder();
        folder.Create(_ => { });
        Assert.Null(folder.ReadApplied());

        var applied = new AppliedState { Version = 7, RestartGeneration = 2, PowerState = "Running", SecureBoot = true };
        folder.WriteApplied(applied);

        Assert.Equal(applied, folder.ReadApplied());
    }
}
