using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Native;

/// <summary>
/// The NativeAOT <c>tl</c> against the JIT build (<c>dotnet tl.dll</c>) on the same command lines: the tool verbs it
/// runs itself and the ones it execs <c>tl-server</c> for (a service verb, the root's help and version, <c>--json</c>,
/// an unknown verb) give the same stdout, stderr and exit code.
/// </summary>
[IntegrationTest]
public sealed class NativeTlTests(NativeTlFixture native) : IClassFixture<NativeTlFixture>
{
    private static readonly string Capture = Path.Combine(RepositoryPaths.CorpusRoot, "qemu", "ovmf4m-ms-sb-crb");
    private static readonly string Golden = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "TrustedLaunch.Cli.Tests", "Attest", "Golden");
    private static readonly string Quote = Path.Combine(RepositoryPaths.CorpusRoot, "public", "go-tpm-tools-gce-cos-85-nonce9009");

    public static TheoryData<string> CommandLines => new(
    [
        // Run natively.
        $"eventlog replay {Capture}/binary_bios_measurements",
        $"eventlog summary {Capture}/binary_bios_measurements",
        $"eventlog replay {Capture}/config.txt",
        $"secureboot verify {Capture}/no-such-image.efi --vars /usr/share/OVMF/OVMF_VARS_4M.ms.fd",
        $"tpm checkquote -u {Quote}/ak.pub -m {Quote}/quote_sha256.bin -s {Quote}/quote_sha256.sig -g sha256 -q 9009",
        $"attest verify --evidence {Golden}/evidence-sb.json --ca {Golden}/ca --vm-id {File.ReadAllText(Path.Combine(Golden, "vm-id.txt")).Trim()}",
        "eventlog replay --no-such-option",
        "group list --server http://127.0.0.1:9",
        "deployment group validate --help",
        "eventlog --help",
        // Forwarded to tl-server.
        $"eventlog replay {Capture}/binary_bios_measurements --json",
        "--help",
        "--version",
        "server --help",
        "no-such-verb",
        "",
    ]);

    [Theory]
    [MemberData(nameof(CommandLines))]
    public void NativeTl_PrintsWhatTheJitBuildPrints(string commandLine)
    {
        string[] args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        ToolResult jit = TlRun.Spawned(args);
        ToolResult aot = native.Run(args);
        Assert.True(jit.ExitCode == aot.ExitCode, $"JIT: {jit}\nnative: {aot}");
        Assert.Equal(jit.StandardOutput, aot.StandardOutput);
        Assert.Equal(jit.StandardError, aot.StandardError);
    }
}
