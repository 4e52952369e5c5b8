using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Native;

/// <summary>
/// The NativeAOT <c>tl</c> against the JIT build (<c>dotnet tl.dll</c>) on the same command lines: the tool verbs it
/// runs itself (the ARM client verbs against a port nobody listens on: their error path) and the ones it execs <c>tl-server</c> for (a service verb, the root's help and version, <c>--json</c>,
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
        "vm list --server http://127.0.0.1:9",
        "vm show -g rg -n vm1 --server http://127.0.0.1:9 -o table",
        "vm create --help",
        "vm secure-boot update-keys -g rg --server http://127.0.0.1:9",
        "vmss list --server http://127.0.0.1:9",
        "vmss scale --help",
        "security assessment list --server http://127.0.0.1:9",
        "security assessment list --vm vm1 --server http://127.0.0.1:9",
        "security --help",
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

    // The verifier trusts the given AK CAs only, so it reads nothing else: not the machine's trust store, which
    // X509Chain loaded on Linux (every file of /etc/ssl/certs) and which tripled the process's time.
    [Fact]
    public void AttestVerify_OpensNoSystemTrustStore()
    {
        string strace = ExternalTool.Find("strace") ?? throw new InvalidOperationException("strace is missing: run scripts/install-deps.sh");
        string trace = Path.Combine(RepositoryPaths.NewTempDirectory("tl-native-strace"), "trace.txt");
        string vmId = File.ReadAllText(Path.Combine(Golden, "vm-id.txt")).Trim();
        ToolResult run = ExternalTool.Run(strace, ["-f", "-e", "trace=open,openat,stat,newfstatat,statx", "-o", trace, native.BinaryPath,
            "attest", "verify", "--evidence", Path.Combine(Golden, "evidence-sb.json"), "--ca", Path.Combine(Golden, "ca"), "--vm-id", vmId, "--nonce", "7f3a9c1e5b2d4f6081a3c5e7092b4d6f8193a5c7e9fb1d3f5577991133557799"],
            timeout: TimeSpan.FromSeconds(120));

        Assert.True(run.ExitCode == 0, run.ToString());
        string[] opened = File.ReadAllLines(trace);
        Assert.Contains(opened, line => line.Contains("evidence-sb.json", StringComparison.Ordinal)); // the trace sees the file reads
        Assert.DoesNotContain(opened, line => line.Contains("/etc/ssl/certs", StringComparison.Ordinal));
    }
}
