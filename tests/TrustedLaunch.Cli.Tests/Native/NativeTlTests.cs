using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Qemu;

namespace TrustedLaunch.Cli.Tests.Native;

/// <summary>
/// The NativeAOT <c>tl</c> against the JIT build (<c>dotnet tl.dll</c>) on the same command lines: the tool verbs it
/// runs itself (the ARM client verbs against a port nobody listens on: their error path; <c>--json</c> of every output
/// family; the root's help, version and usage errors) and the ones it execs <c>tl-server</c> for (the service verbs)
/// give the same stdout, stderr and exit code.
/// </summary>
[IntegrationTest]
public sealed class NativeTlTests(NativeTlFixture native) : IClassFixture<NativeTlFixture>
{
    private static readonly string Capture = Path.Combine(RepositoryPaths.CorpusRoot, "qemu", "ovmf4m-ms-sb-crb");
    private static readonly string Golden = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "TrustedLaunch.Cli.Tests", "Attest", "Golden");
    private static readonly string Quote = Path.Combine(RepositoryPaths.CorpusRoot, "public", "go-tpm-tools-gce-cos-85-nonce9009");
    private static readonly string Public = Path.Combine(RepositoryPaths.CorpusRoot, "public");
    private static readonly string VmId = File.ReadAllText(Path.Combine(Golden, "vm-id.txt")).Trim();

    public static TheoryData<string> CommandLines => new(
    [
        // Run natively.
        $"eventlog replay {Capture}/binary_bios_measurements",
        $"eventlog summary {Capture}/binary_bios_measurements",
        $"eventlog replay {Capture}/config.txt",
        $"secureboot verify {Capture}/no-such-image.efi --vars /usr/share/OVMF/OVMF_VARS_4M.ms.fd",
        $"tpm checkquote -u {Quote}/ak.pub -m {Quote}/quote_sha256.bin -s {Quote}/quote_sha256.sig -g sha256 -q 9009",
        $"attest verify --evidence {Golden}/evidence-sb.json --ca {Golden}/ca --vm-id {VmId}",
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
        // --json, one command line per output family (source-generated contracts against the JIT host's reflection).
        $"eventlog replay {Capture}/binary_bios_measurements --json",
        $"eventlog replay {Capture}/binary_bios_measurements --pcrs {Capture}/pcrs.txt --json",
        $"eventlog show {Capture}/binary_bios_measurements --json",
        $"eventlog summary {Capture}/binary_bios_measurements --json",
        $"eventlog summary {Public}/go-attestation-windows_gcp_shielded_vm/binary_bios_measurements --json",
        $"tpm checkquote -u {Quote}/ak.pub -m {Quote}/quote_sha256.bin -s {Quote}/quote_sha256.sig -g sha256 -q 9009 --json",
        "uefi vars show /usr/share/OVMF/OVMF_VARS_4M.ms.fd --json",
        $"attest verify --evidence {Golden}/evidence-sb.json --ca {Golden}/ca --vm-id {VmId} --json",
        $"attest verify --evidence {Golden}/evidence-sb.json --ca {Golden}/ca --vm-id {VmId} --nonce 00 --json",
        // The root: its help, version and usage errors (the service verbs are names and descriptions in the native tree).
        "--help",
        "--version",
        "no-such-verb",
        "",
        // Forwarded to tl-server.
        "server --help",
        "vmgs --help",
        "boot --no-such-option",
    ]);

    // The Debian boot chain's files come from a download (cached), so these are not in the static list.
    [Fact]
    public void NativeTl_JsonOfSecureBootAndModuleVerdicts_IsTheJitBuilds()
    {
        string certs = RepositoryPaths.NewTempDirectory("tl-native-certs");
        Assert.Equal(0, native.Run("module", "kernel-certs", DebianBootChain.Kernel, "--out", certs).ExitCode);
        string module = Path.Combine(DebianBootChain.Modules, "kernel", "drivers", "char", "ttyprintk.ko");
        const string Store = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd";
        string[][] commandLines =
        [
            ["secureboot", "verify", DebianBootChain.Shim, "--vars", Store, "--json"],
            ["secureboot", "verify", DebianBootChain.Kernel, "--vars", Store, "--json"],
            ["module", "kernel-certs", DebianBootChain.Kernel, "--json"],
            ["module", "verify", module, "--cert", Path.Combine(certs, "kernel-cert-0.der"), "--json"],
            ["module", "verify", module, "--cert", Path.Combine(Golden, "ca", "vtpm-ak-ca.crt"), "--json"],
        ];
        foreach (string[] args in commandLines)
            AssertSameRun(args);
    }

    [Theory]
    [MemberData(nameof(CommandLines))]
    public void NativeTl_PrintsWhatTheJitBuildPrints(string commandLine) => AssertSameRun(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    private void AssertSameRun(string[] args)
    {
        ToolResult jit = TlRun.Spawned(args);
        ToolResult aot = native.Run(args);
        Assert.True(jit.ExitCode == aot.ExitCode, $"{string.Join(' ', args)}\nJIT: {jit}\nnative: {aot}");
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
