using System.Diagnostics;
using TrustedLaunch.Runtime.GuestState;
using TrustedLaunch.Runtime.Tests.Boot;
using TrustedLaunch.Testing;
using Xunit.Abstractions;

namespace TrustedLaunch.Runtime.Tests.GuestState;

/// <summary>
/// SIGKILL of the runtime (<c>tl boot</c>), of tl-vtpm or of QEMU at random moments of a VMGS boot — while the firmware
/// writes its variables, while tl-vtpm stores NV, while the runtime writes the store back — never leaves a VMGS that does
/// not open, and never changes the vTPM's identity.
/// </summary>
[Collection(BootGroup.Name)]
[IntegrationTest]
public sealed class VmgsKillTests(BootFixture images, ITestOutputHelper output)
{
    private static readonly string[] Victims = ["tl", "tl-vtpm", "qemu"];

    [Fact]
    public async Task Kill_RuntimeVTpmOrQemuAtRandomPoints_VmgsAlwaysOpensEkUnchanged()
    {
        string disk = images.Trusted.RawPath;
        VmgsVm vm = VmgsVm.Create("microsoft");
        byte[] ek = vm.ReadEkCertificate();
        var random = new Random(20261129);
        const int kills = 6; // two per victim: each round costs up to a TCG boot
        for (int round = 0; round < kills; round++)
        {
            string victim = Victims[round % Victims.Length];
            // From "tl-vtpm is just starting" to "the guest is up and shutting down": the rounds spread over the whole boot.
            int delayMs = random.Next(300, 28_000);
            using Process tl = vm.StartBoot(disk);
            _ = tl.StandardOutput.ReadToEndAsync();
            Task<string> stderr = tl.StandardError.ReadToEndAsync();
            await Task.WhenAny(tl.WaitForExitAsync(), Task.Delay(delayMs));
            int[] children = tl.HasExited ? [] : Children(tl.Id);
            string what = Kill(tl, children, victim);
            using (var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
                await tl.WaitForExitAsync(bounded.Token);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (DateTime.UtcNow < deadline && children.Any(IsAlive))
                await Task.Delay(50);
            Assert.DoesNotContain(children, IsAlive);
            output.WriteLine($"round {round}: after {delayMs} ms {what}; tl exit {tl.ExitCode}; {LastLine(await stderr)}");

            VmgsGuestState state = VmgsGuestState.Open(vm.VmgsPath, vm.KekPath); // every entry decrypts
            Assert.Equal(vm.VmId.ToString(), state.VmId);
            Assert.Equal(ek, vm.ReadEkCertificate());
        }

        BootRun after = vm.Boot(disk);
        Assert.True(after.Process.ExitCode == 0 && after.Outcome == "booted", after.ToString());
    }

    private static string Kill(Process tl, int[] children, string victim)
    {
        if (tl.HasExited)
            return "tl had already finished";
        int? target = victim switch
        {
            "tl" => tl.Id,
            "tl-vtpm" => children.FirstOrDefault(c => CommandLine(c).Contains("tl-vtpm", StringComparison.Ordinal)) is int v and > 0 ? v : null,
            _ => children.FirstOrDefault(c => CommandLine(c).Contains("qemu-system", StringComparison.Ordinal)) is int q and > 0 ? q : null,
        };
        if (target is not int pid)
        {
            tl.Kill();
            return $"no {victim} yet: killed tl";
        }

        Process.GetProcessById(pid).Kill();
        return $"killed {victim} (pid {pid})";
    }

    private static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static int[] Children(int pid)
    {
        try
        {
            return [.. Directory.GetDirectories($"/proc/{pid}/task")
                .SelectMany(t => File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Select(int.Parse)];
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static bool IsAlive(int pid)
    {
        string status = $"/proc/{pid}/status";
        try
        {
            return File.Exists(status) && !File.ReadAllLines(status).Any(l => l.StartsWith("State:", StringComparison.Ordinal) && l.Contains('Z', StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
    }
}
