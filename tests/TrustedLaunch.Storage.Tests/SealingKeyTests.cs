using TrustedLaunch.HostSystem;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Storage.Tests;

public sealed class SealingKeyTests
{
    [Fact]
    public void Generate_ThenLoad_SameKeyModeOwnerOnly()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "key");
        SealingKey generated = SealingKey.Generate(path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(65, new FileInfo(path).Length);
        Assert.Equal(generated.KeyCheckValue, SealingKey.Load(path).KeyCheckValue);
    }

    [Fact]
    public void Generate_Existing_Refuses()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "key");
        SealingKey.Generate(path);
        Assert.Throws<SealingKeyException>(() => SealingKey.Generate(path));
    }

    [Fact]
    public void Load_RawBinary32Bytes_Accepted()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "key");
        OwnerOnlyFile.WriteNew(path, new byte[32]);
        Assert.Equal(SealingKey.FromBytes(new byte[32]).KeyCheckValue, SealingKey.Load(path).KeyCheckValue);
    }

    [Theory]
    [InlineData("world readable", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0b110_100_100, "chmod 600")]
    [InlineData("short hex", "0123", 0b110_000_000, "expected 32 raw bytes")]
    [InlineData("not hex", "zz23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0b110_000_000, "expected 32 raw bytes")]
    public void Load_BadFile_ThrowsWithReason(string label, string content, int mode, string expected)
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "key");
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, (UnixFileMode)mode);
        var e = Assert.Throws<SealingKeyException>(() => SealingKey.Load(path));
        Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"{label}: {e.Message}");
    }

    [Fact]
    public void Load_Missing_SaysDoesNotExist()
    {
        var e = Assert.Throws<SealingKeyException>(() => SealingKey.Load("/nonexistent/tl/key"));
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }
}
