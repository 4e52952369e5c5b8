using System.Text.RegularExpressions;
using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Qemu;

namespace TrustedLaunch.Cli.Tests.SecureBoot;

/// <summary>
/// The firmware itself as the oracle: OVMF (Secure Boot build, SMM, TCG) with stores made by <c>tl uefi vars create</c>.
/// Each claim is booted once, stopping as soon as the verdict is on the serial console; <c>tl secureboot verify</c>
/// must have predicted it.
/// </summary>
[IntegrationTest]
public sealed partial class FirmwareBootTests : IDisposable
{
    private static readonly TimeSpan BootTimeout = TimeSpan.FromMinutes(4);
    private readonly string _dir = RepositoryPaths.NewTempDirectory("tl-sb-boot");

    [Fact]
    public void Boot_MicrosoftTemplateStore_DebianShimGrubKernelBootWithSecureBootEnforcing()
    {
        string vars = Path.Combine(_dir, "ms.fd");
        Assert.Equal(0, Tl("uefi", "vars", "create", "--template", "microsoft", "--out", vars).ExitCode);
        Assert.Equal(0, Tl("secureboot", "verify", DebianBootChain.Shim, "--vars", vars).ExitCode);

        string grubCfg = Path.Combine(_dir, "grub.cfg");
        File.WriteAllText(grubCfg, "set timeout=0\nmenuentry \"tl\" {\n  linux /vmlinuz console=ttyS0 panic=-1\n}\n");
        string esp = OvmfBoot.CreateEsp(_dir, new Dictionary<string, string>
        {
            ["EFI/BOOT/BOOTX64.EFI"] = DebianBootChain.Shim,
            ["EFI/BOOT/grubx64.efi"] = DebianBootChain.Grub,
            ["EFI/BOOT/grub.cfg"] = grubCfg,
            ["EFI/debian/grub.cfg"] = grubCfg,
            ["vmlinuz"] = DebianBootChain.Kernel,
        });

        // The kernel's EFI stub prints this only after firmware → shim → grub → kernel all passed verification.
        var capture = OvmfBoot.Boot(_dir, vars, esp, SecureBootEnabled(), BootTimeout);
        Assert.True(capture.Matched, capture.Console);
        Assert.DoesNotContain("Access Denied", capture.Console, StringComparison.Ordinal);
    }

    [Fact]
    public void Boot_CustomKeyStore_RefusesDebianShimAndBootsKernelSignedWithCustomKey()
    {
        var root = TestSigningKeys.CreateRoot(_dir, "root", "TL Custom Platform Root");
        var signer = TestSigningKeys.CreateIssued(_dir, "signer", "TL Custom Boot Signer", root, isCa: false);
        string vars = Path.Combine(_dir, "custom.fd");
        var create = Tl("uefi", "vars", "create", "--template", "custom", "--db", root.CertificatePem, "--out", vars);
        Assert.True(create.ExitCode == 0, create.ToString());

        // 1. Debian's Microsoft-signed shim: predicted DENIED, and the firmware refuses it.
        Assert.Equal(1, Tl("secureboot", "verify", DebianBootChain.Shim, "--vars", vars).ExitCode);
        string shimEsp = OvmfBoot.CreateEsp(Directory.CreateDirectory(Path.Combine(_dir, "shim")).FullName,
            new Dictionary<string, string> { ["EFI/BOOT/BOOTX64.EFI"] = DebianBootChain.Shim });
        var refused = OvmfBoot.Boot(_dir, vars, shimEsp, Refused(), BootTimeout);
        Assert.True(refused.Matched, refused.Console);

        // 2. The Debian kernel re-signed with the custom key: predicted ALLOWED, and its EFI stub runs under Secure Boot.
        string kernel = Path.Combine(_dir, "vmlinuz.efi");
        File.Copy(DebianBootChain.Kernel, kernel);
        while (ExternalTool.Run("sbattach", ["--remove", kernel]).ExitCode == 0)
        {
            // Drop Debian's signature so the custom one is the only one.
        }

        string signedKernel = Path.Combine(_dir, "vmlinuz.signed.efi");
        TestSigningKeys.Sbsign(signer, kernel, signedKernel, addCertificatePem: null);
        Assert.Equal(1, Tl("secureboot", "verify", kernel, "--vars", vars).ExitCode);
        Assert.Equal(0, Tl("secureboot", "verify", signedKernel, "--vars", vars).ExitCode);
        string kernelEsp = OvmfBoot.CreateEsp(Directory.CreateDirectory(Path.Combine(_dir, "kernel")).FullName,
            new Dictionary<string, string> { ["EFI/BOOT/BOOTX64.EFI"] = signedKernel });
        var booted = OvmfBoot.Boot(_dir, vars, kernelEsp, SecureBootEnabled(), BootTimeout);
        Assert.True(booted.Matched, booted.Console);
    }

    [GeneratedRegex("EFI stub: UEFI Secure Boot is enabled")]
    private static partial Regex SecureBootEnabled();

    [GeneratedRegex("Access Denied|Security Violation")]
    private static partial Regex Refused();

    private static ToolResult Tl(params string[] args) => TlRun.InProcess(args);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Scratch files left behind do not fail a test.
        }
    }
}
