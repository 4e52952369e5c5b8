using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace TrustedLaunch.Testing.Qemu;

/// <summary>What the serial console showed before the expected line appeared (or the time ran out).</summary>
public sealed record ConsoleCapture(bool Matched, string Console)
{
    public override string ToString() => $"matched={Matched}\n{Console}";
}

/// <summary>
/// Boots OVMF's Secure Boot build (q35, SMM, secure pflash, TCG) from a FAT ESP made with mtools (no root, no loop
/// devices) and watches the serial console, stopping the VM as soon as a line matches.
/// </summary>
public static class OvmfBoot
{
    public const string SecureBootCode = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd";

    /// <summary>A 64 MiB FAT ESP holding <paramref name="files"/> (ESP path such as "EFI/BOOT/BOOTX64.EFI" → host file).</summary>
    public static string CreateEsp(string directory, IReadOnlyDictionary<string, string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        string image = Path.Combine(directory, "esp.img");
        Run("mformat", "-i", image, "-C", "-T", "131072", "-h", "64", "-s", "32", "::");
        var made = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (target, source) in files)
        {
            string[] parts = target.Split('/');
            for (int i = 1; i < parts.Length; i++)
            {
                string dir = "::/" + string.Join('/', parts[..i]);
                if (made.Add(dir))
                    Run("mmd", "-i", image, dir);
            }

            Run("mcopy", "-i", image, source, "::/" + target);
        }

        return image;
    }

    /// <summary>Boots with a copy of <paramref name="variableStore"/> and returns once <paramref name="stopWhen"/> matches.</summary>
    public static ConsoleCapture Boot(string directory, string variableStore, string esp, Regex stopWhen, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(stopWhen);
        string vars = Path.Combine(directory, $"vars-{Guid.NewGuid():N}.fd");
        File.Copy(variableStore, vars);
        var psi = new ProcessStartInfo(ExternalTool.Require("qemu-system-x86_64"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (string a in new[]
        {
            "-machine", "q35,smm=on", "-accel", "tcg", "-m", "512", "-display", "none", "-no-reboot", "-net", "none",
            "-global", "driver=cfi.pflash01,property=secure,value=on",
            "-drive", $"if=pflash,format=raw,unit=0,file={SecureBootCode},readonly=on",
            "-drive", $"if=pflash,format=raw,unit=1,file={vars}",
            "-drive", $"if=none,id=esp,format=raw,file={esp}", "-device", "virtio-blk-pci,drive=esp,bootindex=1",
            "-serial", "stdio", "-monitor", "none",
        })
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("qemu-system-x86_64 did not start.");
        var console = new StringBuilder();
        var matched = new TaskCompletionSource<bool>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                matched.TrySetResult(false);
                return;
            }

            lock (console)
                console.AppendLine(e.Data);
            if (stopWhen.IsMatch(e.Data))
                matched.TrySetResult(true);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (console)
                    console.AppendLine("[qemu] " + e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        bool found = matched.Task.Wait(timeout) && matched.Task.Result;
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        process.WaitForExit();
        lock (console)
            return new ConsoleCapture(found, console.ToString());
    }

    private static void Run(string tool, params string[] args)
    {
        var result = ExternalTool.Run(tool, args);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed: {result}");
    }
}
