using System.Globalization;
using System.Text;

namespace TrustedLaunch.HostSystem.Processes;

/// <summary>
/// A long-running process that outlives the process that started it: the one exception to the rule that children die
/// with us (<see cref="ChildProcess"/>), for VMs a host agent supervises — QEMU and its vTPM keep running when the
/// agent restarts or is killed, and the next agent adopts them (<see cref="Adopt"/>). Started through util-linux
/// <c>setsid --fork</c> (a session of its own, no parent-death signal, reparented to init) and <c>/bin/sh</c>, which
/// writes its pid and execs the program with stdin from /dev/null and stdout and stderr appended to a log file. Not
/// being its parent, a supervisor learns of its exit by polling <c>/proc</c> (<see cref="ProcessIdentity"/>), and never
/// its exit code.
/// </summary>
public sealed class DetachedProcess : ISupervisedProcess
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    // $1 pid file, $2 log file, then the program and its arguments; exec keeps the pid the shell wrote.
    private const string Launcher = "p=$1; l=$2; shift 2; echo $$ > \"$p.tmp\" && mv \"$p.tmp\" \"$p\"; exec \"$@\" </dev/null >>\"$l\" 2>&1";

    private readonly string? _logFile;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task<int?> _ended;

    private DetachedProcess(ProcessIdentity identity, string displayName, string? logFile)
    {
        Identity = identity;
        DisplayName = displayName;
        _logFile = logFile;
        _ended = WatchAsync();
    }

    /// <summary>The process's pid and start time: what a supervisor records to adopt it later.</summary>
    public ProcessIdentity Identity { get; }

    public string DisplayName { get; }

    public int Id => Identity.Pid;

    /// <summary>Completes (with null: the exit code goes to init, not to us) once the process is gone.</summary>
    public Task<int?> Ended => _ended;

    public bool HasExited => _ended.IsCompleted;

    /// <summary>The end of the log file the process writes its stdout and stderr to.</summary>
    public string StandardErrorTail => _logFile is null ? "" : Tail(_logFile);

    /// <summary>Starts <paramref name="program"/> (a full path) detached; its output is appended to <paramref name="logFile"/>.</summary>
    /// <exception cref="ProgramStartException">setsid or sh is missing, or the program did not start.</exception>
    public static DetachedProcess Start(string program, IEnumerable<string> arguments, string logFile)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        string name = Path.GetFileName(program);
        string setsid = ExecutableSearch.Find("setsid") ?? throw new ProgramStartException("setsid",
            "setsid (util-linux) is missing; it starts the VM processes that outlive the host agent.");
        string pidFile = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(logFile))!, $".{name}.{Guid.NewGuid():N}.pid");
        ProcessResult launched = ExternalProcess.Run(setsid, ["--fork", "/bin/sh", "-c", Launcher, "tl-detached", pidFile, logFile, program, .. arguments],
            new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(30) });
        if (launched.ExitCode != 0)
            throw new ProgramStartException(name, $"Could not start {name} detached: setsid exited with {launched.ExitCode}: {launched.StandardError.Trim()}");
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                File.Delete(pidFile);
                // A program that fails at once may be gone already: its identity is then unknown, and it has ended.
                ProcessIdentity identity = ProcessIdentity.Of(pid) ?? new ProcessIdentity(pid, -1);
                return new DetachedProcess(identity, name, logFile);
            }

            if (DateTime.UtcNow > deadline)
                throw new ProgramStartException(name, $"{name} did not start within 10 s (no pid written).");
            Thread.Sleep(5);
        }
    }

    /// <summary>Watches a process a previous supervisor started (it may have ended since: <see cref="Ended"/> then completes at once).</summary>
    public static DetachedProcess Adopt(ProcessIdentity identity, string displayName, string? logFile) => new(identity, displayName, logFile);

    public void Terminate() => Signal(Libc.SignalTerminate);

    public async Task KillAsync()
    {
        Signal(Libc.SignalKill);
        await _ended.ConfigureAwait(false);
    }

    public async Task StopAsync(TimeSpan grace)
    {
        Terminate();
        if (await Task.WhenAny(_ended, Task.Delay(grace)).ConfigureAwait(false) != _ended)
            await KillAsync().ConfigureAwait(false);
    }

    /// <summary>Stops watching; the process itself keeps running (that is the point of it).</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    private void Signal(int signal)
    {
        if (Identity.IsRunning)
            _ = Libc.SendSignal(Identity.Pid, signal);
    }

    private async Task<int?> WatchAsync()
    {
        CancellationToken token = _stop.Token;
        while (Identity.IsRunning)
        {
            try
            {
                await Task.Delay(PollInterval, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Disposed: the watch ends; the process is still running, but this object no longer reports on it.
                await Task.Delay(Timeout.Infinite, CancellationToken.None).ConfigureAwait(false);
            }
        }

        return null;
    }

    private static string Tail(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long start = Math.Max(0, stream.Length - 4096);
            stream.Position = start;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            string[] lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Join('\n', lines.TakeLast(20));
        }
        catch (IOException)
        {
            return "";
        }
    }
}
