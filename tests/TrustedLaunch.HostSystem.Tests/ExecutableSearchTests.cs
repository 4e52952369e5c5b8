namespace TrustedLaunch.HostSystem.Tests;

public sealed class ExecutableSearchTests
{
    [Fact]
    public void Find_ShellOnPath_FullPath()
    {
        string? sh = ExecutableSearch.Find("sh");
        Assert.NotNull(sh);
        Assert.True(Path.IsPathFullyQualified(sh));
        Assert.Equal("sh", Path.GetFileName(sh));
    }

    [Fact]
    public void Find_PathWithSlash_ItselfWhenItExists()
    {
        string self = typeof(ExecutableSearchTests).Assembly.Location;
        Assert.Equal(self, ExecutableSearch.Find(self));
        Assert.Null(ExecutableSearch.Find(self + ".missing"));
    }

    [Fact]
    public void Find_Missing_Null() => Assert.Null(ExecutableSearch.Find("tl-no-such-program-" + Guid.NewGuid().ToString("N")));

    [Fact]
    public void NotInstalledMessage_NamesProgramAndPackage() =>
        Assert.Equal("'qemu-img' is not installed; install the 'qemu-utils' package (scripts/install-deps.sh).",
            ExecutableSearch.NotInstalledMessage("qemu-img", "qemu-utils"));
}
