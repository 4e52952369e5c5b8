using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Native;

/// <summary>
/// The NativeAOT <c>tl</c> (src/TrustedLaunch.Cli.Native) published once per test run into a folder of its own, with the
/// JIT host it execs beside it: <c>tl-server</c> links to the apphost of the <c>tl.dll</c> these tests built (copied
/// here under the assembly's name, <c>tl</c>; ./tl and build-deb.sh copy it as <c>tl-server</c>).
/// <c>TL_TEST_NATIVE_TL</c> names an already published <c>tl</c> of this tree instead, whose <c>tl-server</c> must be these
/// tests' <c>tl</c> apphost (else <c>--version</c> differs by the build's commit).
/// </summary>
public sealed class NativeTlFixture : IDisposable
{
    private readonly string _output = RepositoryPaths.NewTempDirectory("tl-native-test");

    public NativeTlFixture()
    {
        if (Environment.GetEnvironmentVariable("TL_TEST_NATIVE_TL") is { Length: > 0 } prebuilt)
        {
            BinaryPath = prebuilt;
            return;
        }

        string project = Path.Combine(RepositoryPaths.RepositoryRoot, "src", "TrustedLaunch.Cli.Native", "TrustedLaunch.Cli.Native.csproj");
        string[] publish = ["publish", project, "-c", "Release", "--nologo", "-v", "q", "-clp:ErrorsOnly", "-o", _output];
        // Under the machine's build lock, as every build here is (ILC takes about a minute of both cores).
        ToolResult built = ExternalTool.Find("flock") is string flock
            ? ExternalTool.Run(flock, ["/tmp/tl-build.lock", "dotnet", .. publish], timeout: TimeSpan.FromMinutes(30))
            : ExternalTool.Run("dotnet", publish, timeout: TimeSpan.FromMinutes(20));
        Assert.True(built.ExitCode == 0, $"dotnet publish TrustedLaunch.Cli.Native: {built}");
        string host = Path.Combine(AppContext.BaseDirectory, "tl");
        Assert.True(File.Exists(host), $"{host} (the JIT host's apphost) was not built beside the tests");
        File.CreateSymbolicLink(Path.Combine(_output, "tl-server"), host);
        BinaryPath = Path.Combine(_output, "tl");
    }

    /// <summary>The native <c>tl</c>.</summary>
    public string BinaryPath { get; }

    public ToolResult Run(params string[] args) => ExternalTool.Run(BinaryPath, args, timeout: TimeSpan.FromSeconds(120));

    public void Dispose() => Directory.Delete(_output, recursive: true);
}
