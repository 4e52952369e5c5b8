using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.EndToEnd;

/// <summary>
/// The built executable says what the in-process entry point says: same stdout, stderr and exit code, so the
/// in-process CLI tests speak for the binary too (Program.cs only wires Console to <see cref="TlCli"/>).
/// </summary>
[IntegrationTest]
public sealed class BinaryEndToEndTests
{
    public static TheoryData<string[]> CommandLines => new()
    {
        new[] { "eventlog", "replay", Capture("binary_bios_measurements"), "--pcrs", Capture("pcrs.txt") },
        new[] { "eventlog", "summary", Capture("binary_bios_measurements"), "--json" },
        new[] { "eventlog", "show", Capture("missing") },
        new[] { "no-such-command" },
        new[] { "vmgs", "--help" },
    };

    [Theory]
    [MemberData(nameof(CommandLines))]
    public void Binary_SameOutputAndExitCodeAsInProcess(string[] args)
    {
        ToolResult spawned = TlRun.Spawned(args);
        ToolResult inProcess = TlRun.InProcess(args);
        Assert.Equal(inProcess, spawned);
    }

    private static string Capture(string file) => Path.Combine(RepositoryPaths.CorpusRoot, "qemu", "ovmf4m-ms-sb-crb", file);
}
