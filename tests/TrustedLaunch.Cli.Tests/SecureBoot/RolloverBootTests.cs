using System.Text.Json;
using System.Text.RegularExpressions;
using TrustedLaunch.Cli.Tests.Vmgs;
using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Qemu;
using TrustedLaunch.Testing.SecureBootObjects;

namespace TrustedLaunch.Cli.Tests.SecureBoot;

/// <summary>
/// The 2026 certificate rollover against the firmware itself (OVMF Secure Boot build, TCG): a shim signed only by the
/// 2023 CA (Debian's shim with its UEFI CA 2011 signature removed, as the next shims will be), the three Microsoft
/// templates, and a 2011-only VM brought forward by <c>tl vmgs update-keys</c> with Microsoft's real DBXUpdate.bin.
/// </summary>
[IntegrationTest]
public sealed partial class RolloverBootTests : IDisposable
{
    private static readonly TimeSpan BootTimeout = TimeSpan.FromMinutes(4);
    private readonly string _dir = RepositoryPaths.NewTempDirectory("tl-rollover-boot");

    [Theory]
    [InlineData("microsoft-2011", false)]
    [InlineData("microsoft", true)]
    [InlineData("microsoft-2023", true)]
    public void Boot_ShimSignedOnlyBy2023Ca_FirmwareAndVerifyAgree(string template, bool boots)
    {
        string vars = Path.Combine(_dir, template + ".fd");
        Tl("uefi", "vars", "create", "--template", template, "--out", vars).ExpectExit(0);
        string esp = Esp(Shim2023Only());

        Assert.Equal(boots ? 0 : 1, Tl("secureboot", "verify", Path.Combine(_dir, "shim-2023.efi"), "--vars", vars).ExitCode);
        var capture = OvmfBoot.Boot(_dir, vars, esp, boots ? SecureBootEnabled() : Refused(), BootTimeout);
        Assert.True(capture.Matched, capture.Console);
    }

    [Fact]
    public void UpdateKeys_2011Vm_RealDbxUpdateThen2023OnlyShimBoots_AndA2023OnlyKekRefusesTheUpdate()
    {
        Tl("ca", "init", P("ca")).ExpectExit(0);
        Tl("vmgs", "keygen", "--out", P("host.kek")).ExpectExit(0);
        Tl("vmgs", "create", "--out", P("old.vmgs"), "--template", "microsoft-2011", "--ca", P("ca"), "--key-file", P("host.kek")).ExpectExit(0);
        Tl("vmgs", "create", "--out", P("new.vmgs"), "--template", "microsoft-2023", "--ca", P("ca"), "--key-file", P("host.kek")).ExpectExit(0);
        string esp = Esp(Shim2023Only());

        // The 2011-only VM: a dry run writes nothing; the update adds the 2023 CAs and Microsoft's dbx hashes.
        byte[] before = File.ReadAllBytes(P("old.vmgs"));
        Tl("vmgs", "update-keys", P("old.vmgs"), "--key-file", P("host.kek"), "--disk", esp, "--template", "microsoft", "--dry-run").ExpectExit(0);
        Assert.Equal(before, File.ReadAllBytes(P("old.vmgs")));
        var applied = Tl("vmgs", "update-keys", P("old.vmgs"), "--key-file", P("host.kek"), "--disk", esp,
            "--template", "microsoft", "--dbx-update", MicrosoftDbxUpdate.Path, "--json").ExpectExit(0);
        using (var json = JsonDocument.Parse(applied.StandardOutput))
        {
            Assert.Equal("Applied", json.RootElement.GetProperty("status").GetString());
            Assert.True(json.RootElement.GetProperty("written").GetBoolean());
            var changes = json.RootElement.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("database").GetString() + " " + c.GetProperty("action").GetString()).ToList();
            Assert.Equal(1, changes.Count(c => c == "KEK added"));
            Assert.Equal(3, changes.Count(c => c == "db added"));
            Assert.True(changes.Count(c => c == "dbx added") > 400);
            var shim = json.RootElement.GetProperty("preflight").EnumerateArray().Single(p => p.GetProperty("path").GetString() == "/EFI/BOOT/BOOTX64.EFI");
            Assert.Equal(("denied", "allowed"), (shim.GetProperty("before").GetString(), shim.GetProperty("after").GetString()));
        }

        Tl("vmgs", "export", P("old.vmgs"), "--entry", "uefi-nvram", "--out", P("updated.fd"), "--key-file", P("host.kek")).ExpectExit(0);
        var capture = OvmfBoot.Boot(_dir, P("updated.fd"), esp, SecureBootEnabled(), BootTimeout);
        Assert.True(capture.Matched, capture.Console);

        // The 2023-only KEK cannot verify Microsoft's KEK CA 2011-signed update: refused by name, nothing written.
        before = File.ReadAllBytes(P("new.vmgs"));
        var refused = Tl("vmgs", "update-keys", P("new.vmgs"), "--key-file", P("host.kek"), "--disk", esp, "--dbx-update", MicrosoftDbxUpdate.Path);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("DBXUpdate.bin is refused: the VM's KEK cannot verify it", refused.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Microsoft Windows UEFI Key Exchange Key", refused.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(P("new.vmgs")));
    }

    private string P(string name) => Path.Combine(_dir, name);

    /// <summary>Debian's shim without its first (UEFI CA 2011) signature: only the Microsoft UEFI CA 2023 one is left.</summary>
    private string Shim2023Only()
    {
        string shim = P("shim-2023.efi");
        if (!File.Exists(shim))
        {
            File.Copy(DebianBootChain.Shim, shim);
            var removed = ExternalTool.Run("sbattach", ["--remove", "--signum", "0", shim]);
            Assert.True(removed.ExitCode == 0, removed.ToString());
        }

        return shim;
    }

    private string Esp(string shim)
    {
        string grubCfg = P("grub.cfg");
        File.WriteAllText(grubCfg, "set timeout=0\nmenuentry \"tl\" {\n  linux /vmlinuz console=ttyS0 panic=-1\n}\n");
        return OvmfBoot.CreateEsp(Directory.CreateDirectory(P("esp-" + Guid.NewGuid().ToString("N")[..8])).FullName, new Dictionary<string, string>
        {
            ["EFI/BOOT/BOOTX64.EFI"] = shim,
            ["EFI/BOOT/grubx64.efi"] = DebianBootChain.Grub,
            ["EFI/BOOT/grub.cfg"] = grubCfg,
            ["EFI/debian/grub.cfg"] = grubCfg,
            ["vmlinuz"] = DebianBootChain.Kernel,
        });
    }

    // The kernel's EFI stub prints this only after firmware → shim → grub → kernel all passed verification.
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
