using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace TrustedLaunch.Bench;

/// <summary><c>tl server</c> as a child process on a free loopback port (the load generators of bench/: attest-load, fleet-sim).</summary>
internal sealed partial class TlServerProcess : IDisposable
{
    private readonly Process _process;

    private TlServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>User + system CPU the server process has used (from /proc/PID/stat, clock-tick resolution).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            try
            {
                _process.Refresh();
                return _lastCpuTime = _process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                return _lastCpuTime; // exited (killed, or crashed): what it had used when last read
            }
        }
    }

    private TimeSpan _lastCpuTime;

    /// <summary>Whether the process has ended (killed, or crashed).</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>SIGKILL, as a crash or an OOM kill would end it: no clean shutdown, no lease released.</summary>
    public void KillHard()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public static void Tl(string tl, params string[] args)
    {
        using Process process = Start(tl, args);
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"tl {string.Join(' ', args)}: exit {process.ExitCode}: {process.StandardError.ReadToEnd()}");
    }

    public static async Task<TlServerProcess> StartAsync(string tl, string data, params string[] options)
    {
        Directory.CreateDirectory(data);
        Process process = Start(tl, ["server", "--data", data, "--listen", "http://127.0.0.1:0", .. options]);
        _ = process.StandardOutput.ReadToEndAsync(); // keep the log pipe drained
        while (await process.StandardError.ReadLineAsync() is string line)
        {
            Match match = Listening().Match(line);
            if (match.Success)
            {
                _ = process.StandardError.ReadToEndAsync();
                return new TlServerProcess(process, new Uri(match.Groups[1].Value));
            }
        }

        throw new InvalidOperationException($"tl server exited with {process.ExitCode} before listening");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            using Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
                _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static Process Start(string tl, string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(tl);
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    [GeneratedRegex(@"^tl server: listening on (http://[^ ,;]+)")]
    private static partial Regex Listening();
}
