using TrustedLaunch.Images;
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
        DebianImage image = DebianImageBuilder.Build(new DebianImageRequest
        {
            ImageCache = Path.Combine(RepositoryPaths.TestImageCache, "images"),
            PackageCache = Path.Combine(RepositoryPaths.TestImageCache, "debs"),
        });
        // Short: libvirt puts QEMU's monitor socket five folders below it, and a Unix socket path has 108 bytes.
        string work = Path.Combine(Path.GetTempPath(), "tlp-" + Path.GetRandomFileName()[..8]);
        Directory.CreateDirectory(work);
        ToolResult proof = ExternalTool.Run(Path.Combine(RepositoryPaths.RepositoryRoot, "scripts", "libvirt-interop-proof.sh"),
            [Path.Combine(AppContext.BaseDirectory, "tl"), Path.Combine(AppContext.BaseDirectory, "tl-vtpm"), image.RawPath, work],
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
        Assert.Contains("PROOF OK", output, StringComparison.Ordinal);
        Assert.Contains("Successfully authored TPM state", File.ReadAllText(Directory.GetFiles(Path.Combine(work, "xdg", "cache", "libvirt", "qemu", "log"), "*-swtpm.log").Single()),
            StringComparison.Ordinal);
    }
}
