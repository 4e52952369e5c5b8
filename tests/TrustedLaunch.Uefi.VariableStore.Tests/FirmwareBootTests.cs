using System.Diagnostics;
using System.Text;
using TrustedLaunch.Testing;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Uefi.VariableStore.Tests;

/// <summary>
/// The firmware itself as the oracle: OVMF (Debian's OVMF_CODE_4M.secboot.fd, SMM, TCG) boots a store we built and enforces
/// it. efitools' HelloWorld.efi, signed with sbsign or not, is the boot image on a virtual FAT disk.
/// </summary>
[IntegrationTest]
public sealed class FirmwareBootTests : IDisposable
{
    private readonly string _dir = RepositoryPaths.NewTempDirectory("tl-fwboot");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Boot_CustomStoreThenSignedDbAppend_FirmwareEnforcesBothStates()
    {
        using var platform = TestKey.Create(_dir, "platform");
        using var vendor = TestKey.Create(_dir, "vendor");
        const string hello = "/usr/lib/efitools/x86_64-linux-gnu/HelloWorld.efi";
        Assert.True(File.Exists(hello), "efitools' HelloWorld.efi is missing; run scripts/install-deps.sh");
        string signedByVendor = EspWith("vendor", vendor, hello);
        string unsigned = EspWith("unsigned", null, hello);

        var store = TestStores.Custom(platform, platform, platform);
        string before = Path.Combine(_dir, "before.fd");
        store.SaveFile(before, overwrite: false);
        Assert.Contains("Access Denied", Boot(before, signedByVendor), StringComparison.Ordinal);
        Assert.Contains("Access Denied", Boot(before, unsigned), StringComparison.Ordinal);

        // A KEK-signed APPEND_WRITE adds the vendor certificate to db; the firmware must now run the vendor's image.
        var update = AuthenticatedVariableSigner.Sign(WellKnownVariables.Db, TestStores.AppendAttributes, new EfiTime(2024, 1, 1, 0, 0, 0),
            TestStores.Esl(vendor, SecureBootStoreOptions.TrustedLaunchOwner), platform.Certificate);
        var result = SecureBootVariableUpdater.Apply(store, WellKnownVariables.Db, TestStores.AppendAttributes, update.Encode());
        Assert.True(result.Status == VariableUpdateStatus.Applied, result.Message);
        string after = Path.Combine(_dir, "after.fd");
        store.SaveFile(after, overwrite: false);
        string console = Boot(after, signedByVendor);
        Assert.Contains("HelloWorld", console, StringComparison.Ordinal);
        Assert.DoesNotContain("Access Denied", console, StringComparison.Ordinal);
        Assert.Contains("Access Denied", Boot(after, unsigned), StringComparison.Ordinal);
    }

    private string EspWith(string name, TestKey? signer, string image)
    {
        string boot = Path.Combine(_dir, "esp-" + name, "EFI", "BOOT");
        Directory.CreateDirectory(boot);
        string target = Path.Combine(boot, "BOOTX64.EFI");
        if (signer is null)
        {
            File.Copy(image, target);
        }
        else
        {
            var r = ExternalTool.Run("sbsign", ["--key", signer.KeyPath, "--cert", signer.CertificatePath, "--output", target, image]);
            Assert.True(r.ExitCode == 0, r.ToString());
        }

        return Path.Combine(_dir, "esp-" + name);
    }

    /// <summary>Boots until the console shows a verdict (or 90 s pass) and returns the serial output.</summary>
    private string Boot(string vars, string esp)
    {
        string run = vars + ".run";
        File.Copy(vars, run, overwrite: true);
        string log = Path.Combine(_dir, $"serial-{Guid.NewGuid():N}.log");
        var psi = new ProcessStartInfo(ExternalTool.Require("qemu-system-x86_64"))
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (string a in new[]
        {
            "-machine", "q35,smm=on,accel=tcg", "-global", "driver=cfi.pflash01,property=secure,value=on",
            "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
            "-drive", $"if=pflash,format=raw,unit=1,file={run}", "-m", "512", "-display", "none", "-net", "none", "-no-reboot",
            "-serial", $"file:{log}", "-drive", $"file=fat:rw:{esp},format=raw,if=virtio",
        })
            psi.ArgumentList.Add(a);
        using var qemu = Process.Start(psi)!;
        string text = "";
        var clock = Stopwatch.StartNew();
        try
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(90) && !qemu.HasExited)
            {
                Thread.Sleep(500);
                text = File.Exists(log) ? Encoding.Latin1.GetString(File.ReadAllBytes(log)) : "";
                if (text.Contains("Access Denied", StringComparison.Ordinal) || text.Contains("To execute an unsigned binary", StringComparison.Ordinal)
                    || text.Contains("No bootable option", StringComparison.Ordinal))
                    break;
            }
        }
        finally
        {
            if (!qemu.HasExited)
                qemu.Kill(entireProcessTree: true);
            qemu.WaitForExit();
        }

        return File.Exists(log) ? Encoding.Latin1.GetString(File.ReadAllBytes(log)) : text;
    }
}
