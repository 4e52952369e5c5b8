using System.Diagnostics;
using TrustedLaunch.Images;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Boot;

[IntegrationTest]
public sealed class BootOrphanTests
{
    [Fact]
    public async Task TlBoot_KilledWithSigkillMidBoot_QemuAndVTpmDieToo()
    {
        string cache = RepositoryPaths.TestImageCache;
        DebianImage image = DebianImageBuilder.Build(new DebianImageRequest
        {
            ImageCache = Path.Combine(cache, "images"),
            PackageCache = Path.Combine(cache, "debs"),
        });
        string dir = RepositoryPaths.NewTempDirectory("tl-orphan");
        string vars = Path.Combine(dir, "vars.fd");
        File.Copy("/usr/share/OVMF/OVMF_VARS_4M.ms.fd", vars);
        string console = Path.Combine(dir, "console.log");

        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { TlRun.BinaryPath, "boot", "--image", image.RawPath, "--vars", vars,
                     "--memory", "512", "--console", console, "--timeout", "120" })
        {
            psi.ArgumentList.Add(a);
        }

        using Process tl = Process.Start(psi)!;
        _ = tl.StandardOutput.ReadToEndAsync();
        _ = tl.StandardError.ReadToEndAsync();

        // Wait until the firmware runs (QEMU and the vTPM are both up), then kill tl outright: no handler runs.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !(File.Exists(console) && File.ReadAllText(console).Contains("BdsDxe", StringComparison.Ordinal)))
            await Task.Delay(100);
        int[] children = Children(tl.Id);
        Assert.True(children.Length == 2, $"expected QEMU and the vTPM under tl, found {children.Length}");
        tl.Kill();
        await tl.WaitForExitAsync();

        deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline && children.Any(IsAlive))
            await Task.Delay(100);
        Assert.DoesNotContain(children, IsAlive);
    }

    private static int[] Children(int pid) =>
        [.. Directory.GetDirectories($"/proc/{pid}/task")
            .SelectMany(t => File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse)];

    // A killed child stays a zombie until reaped by init; a zombie is not running.
    private static bool IsAlive(int pid)
    {
        string status = $"/proc/{pid}/status";
        if (!File.Exists(status))
            return false;
        try
        {
            return !File.ReadAllLines(status).Any(l => l.StartsWith("State:", StringComparison.Ordinal) && l.Contains('Z', StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
    }
}
