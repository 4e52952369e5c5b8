using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Packaging;

/// <summary>
/// The Debian package as <c>packaging/build-deb.sh</c> builds it, once per test run, under a name and version of its own
/// (<see cref="Name"/>, <see cref="Version"/>) so it can never be mistaken for, or replace, an operator's
/// <c>trustedlaunch</c>. <c>TL_TEST_DEB</c> names an already built package of that name and version instead.
/// </summary>
public sealed class DebianPackageFixture : IDisposable
{
    public const string Name = "trustedlaunch-selftest";
    public const string Version = "0.0.1~selftest1";

    private readonly string _output = RepositoryPaths.NewTempDirectory("tl-deb-test");

    public DebianPackageFixture()
    {
        if (Environment.GetEnvironmentVariable("TL_TEST_DEB") is { Length: > 0 } prebuilt)
        {
            PackagePath = prebuilt;
            return;
        }

        // Three publishes: under the machine's build lock, as every build here is (CI has no other builder to wait for).
        string script = Path.Combine(RepositoryPaths.RepositoryRoot, "packaging", "build-deb.sh");
        string[] arguments = ["--name", Name, "--version", Version, "--output", _output];
        ToolResult built = ExternalTool.Find("flock") is string flock
            ? ExternalTool.Run(flock, ["/tmp/tl-build.lock", script, .. arguments], timeout: TimeSpan.FromMinutes(60))
            : ExternalTool.Run(script, arguments, timeout: TimeSpan.FromMinutes(30));
        Assert.True(built.ExitCode == 0, $"build-deb.sh: {built}");
        PackagePath = built.StandardOutput.Trim().Split('\n')[^1];
    }

    public string PackagePath { get; }

    public void Dispose() => Directory.Delete(_output, recursive: true);
}
