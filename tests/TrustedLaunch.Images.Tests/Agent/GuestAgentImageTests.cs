using TrustedLaunch.Images.Agent;
using TrustedLaunch.Images.Packages;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Images.Tests.Agent;

/// <summary>How the guest agent gets into the image: its libraries from ldd, and a cache key that follows its bytes.</summary>
public sealed class GuestAgentImageTests
{
    [IntegrationTest]
    [Fact]
    public void Of_HostProgram_ListsLoaderAndLibcAtRealPaths()
    {
        IReadOnlyList<SharedLibrary> libraries = SharedLibraries.Of(ExternalTool.Require("ls"));
        Assert.Contains(libraries, l => Path.GetFileName(l.GuestPath) == "libc.so.6");
        Assert.Contains(libraries, l => Path.GetFileName(l.GuestPath).StartsWith("ld-linux", StringComparison.Ordinal));
        Assert.All(libraries, l => Assert.True(File.Exists(l.HostPath), l.HostPath));
        Assert.DoesNotContain(libraries, l => l.GuestPath.Contains("vdso", StringComparison.Ordinal));
    }

    [IntegrationTest]
    [Fact]
    public void Of_StaticExecutable_NeedsNothing()
    {
        // busybox-static from the image's own package cache would do too; the dynamic loader itself is static.
        Assert.Empty(SharedLibraries.Of(Path.GetFullPath("/lib64/ld-linux-x86-64.so.2")));
    }

    [Fact]
    public void Parse_MissingLibrary_IsAnEnvironmentError()
    {
        const string output = "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibfoo.so.1 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n";
        var e = Assert.Throws<ImageException>(() => SharedLibraries.Parse(output));
        Assert.Equal(ImageFailure.Environment, e.Failure);
        Assert.Contains("libfoo.so.1", e.Message, StringComparison.Ordinal);
    }

    [IntegrationTest]
    [Fact]
    public void OpenSsl_HostLibssl_WithLibcryptoAtTheLoadersPaths_NoDirectory_EnvironmentError()
    {
        IReadOnlyList<SharedLibrary> openSsl = SharedLibraries.OpenSsl();
        Assert.Equal("libssl.so.3", Path.GetFileName(openSsl[0].GuestPath));
        Assert.Contains(openSsl, l => Path.GetFileName(l.GuestPath) == "libcrypto.so.3");
        Assert.All(openSsl, l => Assert.True(File.Exists(l.HostPath), l.HostPath));
        IReadOnlyList<SharedLibrary> merged = SharedLibraries.Merge(SharedLibraries.Of(ExternalTool.Require("ls")), openSsl);
        Assert.Single(merged, l => Path.GetFileName(l.GuestPath) == "libc.so.6");

        var e = Assert.Throws<ImageException>(() => SharedLibraries.OpenSsl([RepositoryPaths.NewTempDirectory()]));
        Assert.Equal(ImageFailure.Environment, e.Failure);
        Assert.Contains("libssl.so.3", e.Message, StringComparison.Ordinal);
    }

    [IntegrationTest]
    [Fact]
    public void CacheKey_DifferentAgentBytes_DifferentImage()
    {
        string dir = RepositoryPaths.NewTempDirectory();
        string a = Path.Combine(dir, "a"), b = Path.Combine(dir, "b");
        File.WriteAllBytes(a, [1, 2, 3]);
        File.WriteAllBytes(b, [1, 2, 4]);
        DebianPackage[] packages = [new("busybox-static", "1:1.35.0-4+deb12u1+b1")];
        IReadOnlyList<SharedLibrary> libs = SharedLibraries.Of(ExternalTool.Require("ls"));
        string withA = DebianImageBuilder.CacheKey(packages, new DebianImageRequest { GuestAgent = a }, DebianImageBuilder.AgentDigest(a, libs));
        string withB = DebianImageBuilder.CacheKey(packages, new DebianImageRequest { GuestAgent = b }, DebianImageBuilder.AgentDigest(b, libs));
        string without = DebianImageBuilder.CacheKey(packages, new DebianImageRequest(), null);
        Assert.Equal(3, new[] { withA, withB, without }.Distinct().Count());
        Assert.Equal(withA, DebianImageBuilder.CacheKey(packages, new DebianImageRequest { GuestAgent = a }, DebianImageBuilder.AgentDigest(a, libs)));
        Assert.StartsWith(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([1, 2, 3])), DebianImageBuilder.AgentDigest(a, libs), StringComparison.Ordinal);
    }
}
