using System.Text;
using TrustedLaunch.Testing;

namespace TrustedLaunch.HostSystem.Tests;

public sealed class DurableFileTests : IDisposable
{
    private readonly string _dir = RepositoryPaths.NewTempDirectory("tl-durable");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Write_NewFile_HasTheContentAndLeavesNoTemporary()
    {
        DurableFile.Write(P("a.bin"), [1, 2, 3], overwrite: false);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(P("a.bin")));
        Assert.Equal(["a.bin"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Write_ExistingWithoutOverwrite_ThrowsAndKeepsTheOldContent()
    {
        File.WriteAllText(P("a.txt"), "old");
        Assert.ThrowsAny<IOException>(() => DurableFile.Write(P("a.txt"), Encoding.ASCII.GetBytes("new"), overwrite: false));
        Assert.Equal("old", File.ReadAllText(P("a.txt")));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Write_ExistingWithOverwrite_Replaces()
    {
        File.WriteAllText(P("a.txt"), "old");
        DurableFile.Write(P("a.txt"), Encoding.ASCII.GetBytes("new"), overwrite: true);
        Assert.Equal("new", File.ReadAllText(P("a.txt")));
    }

    [Fact]
    public void Write_OwnerOnly_Mode0600()
    {
        DurableFile.Write(P("key"), [7], overwrite: false, ownerOnly: true);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(P("key")));
    }

    [Fact]
    public void Publish_WriterFails_TargetUntouchedAndTemporaryRemoved()
    {
        File.WriteAllText(P("disk.raw"), "old");
        Assert.Throws<InvalidOperationException>(() => DurableFile.Publish(P("disk.raw"), overwrite: true, temporary =>
        {
            File.WriteAllText(temporary, "half");
            throw new InvalidOperationException("writer failed");
        }));
        Assert.Equal("old", File.ReadAllText(P("disk.raw")));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Publish_TemporaryIsHiddenBesideTheTarget()
    {
        string? seen = null;
        DurableFile.Publish(P("image.qcow2"), overwrite: false, temporary =>
        {
            seen = temporary;
            File.WriteAllText(temporary, "x");
        });
        Assert.Equal(_dir, Path.GetDirectoryName(seen));
        Assert.StartsWith(".image.qcow2.tmp-", Path.GetFileName(seen), StringComparison.Ordinal);
        Assert.Equal("x", File.ReadAllText(P("image.qcow2")));
    }

    [Fact]
    public void OwnerOnlyFile_WriteNew_NeverOverwrites()
    {
        OwnerOnlyFile.WriteNew(P("k"), [1]);
        Assert.ThrowsAny<IOException>(() => OwnerOnlyFile.WriteNew(P("k"), [2]));
        Assert.Equal([1], File.ReadAllBytes(P("k")));
    }

    [Fact]
    public void SyncDirectory_Missing_ThrowsIOException()
    {
        if (OperatingSystem.IsLinux())
            Assert.ThrowsAny<IOException>(() => DurableFile.SyncDirectory(P("missing")));
    }
}
