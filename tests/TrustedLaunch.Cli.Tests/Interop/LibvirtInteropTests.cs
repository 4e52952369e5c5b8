using System.Text.Json;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Interop;

/// <summary>
/// Debian's real libvirt (a session libvirtd as an unprivileged user, no system daemon) boots the Debian image under TCG
/// with <c>&lt;tpm model='tpm-crb'&gt;&lt;backend type='emulator' version='2.0'/&gt;</c> and <c>&lt;os firmware='efi'&gt;</c>,
/// unchanged: the shims make tl-vtpm its swtpm and our descriptor its firmware. scripts/libvirt-interop-proof.sh does the
/// work (docs/interop.md §3); this test runs it with the tl and tl-vtpm built beside it and checks every verdict.
/// </summary>
[IntegrationTest]
public sealed class LibvirtInteropTests
{
    [Fact]
    public void Libvirt_BootsDebianWithTlVtpm_EventLogReplaysAndEkChainsToPlatformCa()
    {
        foreach (string tool in new[] { "libvirtd", "virsh", "setpriv", "openssl", "bc", "python3" })
            ExternalTool.Require(tool);
        string image = GuestImageWithAgent();
        // Short: libvirt puts QEMU's monitor socket five folders below it, and a Unix socket path has 108 bytes.
        string work = Path.Combine(Path.GetTempPath(), "tlp-" + Path.GetRandomFileName()[..8]);
        Directory.CreateDirectory(work);
        ToolResult proof = ExternalTool.Run(Path.Combine(RepositoryPaths.RepositoryRoot, "scripts", "libvirt-interop-proof.sh"),
            [Path.Combine(AppContext.BaseDirectory, "tl"), Path.Combine(AppContext.BaseDirectory, "tl-vtpm"), image, work],
            timeout: TimeSpan.FromMinutes(15));

        Assert.True(proof.ExitCode == 0, proof.ToString());
        string output = proof.StandardOutput;
        // libvirt chose our descriptor: the SMM Secure Boot OVMF and our variable template.
        Assert.Contains("<loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.secboot.fd</loader>", output, StringComparison.Ordinal);
        Assert.Contains($"<nvram template='{work}/vars-microsoft.fd'>", output, StringComparison.Ordinal);
        // The verifier: AK chain, quote over the nonce, event-log replay to the quoted PCRs, appraisal (Secure Boot on).
        Assert.Contains("PASS: VM ", output, StringComparison.Ordinal);
        Assert.Contains("Secure Boot: on", output, StringComparison.Ordinal);
        // Our swtpm_setup made the state in libvirt's folder; the EKs chain to the platform root.
        Assert.Contains("tl-vtpm.state", output, StringComparison.Ordinal);
        Assert.Contains("ek-rsa2048.pem: OK", output, StringComparison.Ordinal);
        Assert.Contains("ek-eccp256.pem: OK", output, StringComparison.Ordinal);
        // tl host --libvirt-domain attested the running domain for tl server: a VM resource marked externally managed, passed, power refused.
        Assert.Contains("tl host attested libvirt domain tl-interop-proof: VM resource /subscriptions/", output, StringComparison.Ordinal);
        Assert.Contains("through tl host: pass", output, StringComparison.Ordinal);
        Assert.Contains("managed by libvirt on host libvirt-host", output, StringComparison.Ordinal);
        Assert.Contains("tl vm attest on libvirt domain tl-interop-proof: pass", output, StringComparison.Ordinal); // on request, through the host's long poll
        Assert.Contains("PROOF OK", output, StringComparison.Ordinal);
        Assert.Contains("Successfully authored TPM state", File.ReadAllText(Directory.GetFiles(Path.Combine(work, "xdg", "cache", "libvirt", "qemu", "log"), "*-swtpm.log").Single()),
            StringComparison.Ordinal);
    }

    /// <summary>
    /// The newest cached Generation 2 image that carries the guest agent (built by the image and host tests, or
    /// <c>tl image build debian-12</c> with <c>TL_TEST_IMAGE_CACHE</c>'s images folder); an image without the agent cannot be attested.
    /// </summary>
    private static string GuestImageWithAgent()
    {
        string folder = Path.Combine(RepositoryPaths.TestImageCache, "images");
        string? manifest = Directory.Exists(folder)
            ? Directory.GetFiles(folder, "debian-12-*.json").OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault(path =>
            {
                using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
                JsonElement root = doc.RootElement;
                return root.TryGetProperty("guestAgentSha256", out JsonElement agent) && agent.ValueKind == JsonValueKind.String
                    && root.GetProperty("generation").GetInt32() == 2 && root.GetProperty("untrusted").GetString() == "None"
                    && File.Exists(Path.ChangeExtension(path, ".raw"));
            })
            : null;
        Assert.True(manifest is not null, $"no cached Generation 2 Debian image with the guest agent in {folder}: build one with 'tl image build debian-12'");
        return Path.ChangeExtension(manifest, ".raw");
    }
}
