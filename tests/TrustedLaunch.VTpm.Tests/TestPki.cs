using TrustedLaunch.Testing;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.VTpm.Tests;

/// <summary>One platform CA per test run (creating P-384 CAs is cheap, but there is no need to repeat it).</summary>
internal static class TestPki
{
    private static readonly Lazy<FilePlatformCa> Shared = new(() =>
        FilePlatformCa.Create(Path.Combine(RepositoryPaths.NewTempDirectory("tl-vtpm-ca"), "pki"), "TrustedLaunch Test"));

    public static FilePlatformCa Ca => Shared.Value;
}
