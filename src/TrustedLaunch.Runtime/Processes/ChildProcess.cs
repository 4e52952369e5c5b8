using System.Collections.Concurrent;
using System.Diagnostics;

namespace TrustedLaunch.Runtime.Processes;

/// <summary>
/// A helper process (QEMU, the vTPM) that dies with us. Linux delivers PR_SET_PDEATHSIG when the *thread* that forked
/// the child exits (prctl(2)), and .NET forks on whichever thread calls <see cref="Process.Start()"/> — a thread-pool
/// thread that may retire at any time. So every child is forked from one dedicated thread that lives as long as this
/// process, through util-linux <c>setpriv --pdeathsig</c>, which sets the signal and then execs the program (same pid).
/// If the runtime is killed outright (SIGKILL, OOM), the kernel sends the children SIGTERM: no orphans.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private static readonly Lazy<Spawner> SharedSpawner = new(() => new Spawner());
    private readonly Process _process;
    private readonly Task<int> _exited;

    private ChildProcess(Process process, string displayName, string? standardErrorLog)
    {
        _process = process;
        DisplayName = displayName;
        Id = process.Id;
        _exited = WaitAsync(process, standardErrorLog);
    }

    /// <summary>The program's name for messages (<c>qemu-system-x86_64</c>, <c>swtpm</c>).</summary>
    public string DisplayName { get; }

    public int Id { get; }

    /// <summary>Completes with the exit code when the process has exited (for any reason).</summary>
    public Task<int> Exited => _exited;

    public bool HasExited => _exited.IsCompleted;

    /// <summary>The last lines the process wrote to stderr (QEMU explains a refused command line there).</summary>
    public string StandardErrorTail => _stderr.ToString();

    private readonly StderrTail _stderr = new();

    /// <summary>Starts <paramref name="program"/> with <paramref name="arguments"/>; stdout and stderr go to <paramref name="logFile"/> when given.</summary>
    public static ChildProcess Start(string program, IEnumerable<string> arguments, string? logFile = null)
    {
        string setpriv = ExecutableSearch.Find("setpriv") ?? throw new VmRuntimeException(VmRuntimeFailure.Environment,
            "setpriv (util-linux) is missing; it ties the VM's processes to ours so none is left behind.");
        var psi = new ProcessStartInfo(setpriv)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add("--pdeathsig");
        psi.ArgumentList.Add("TERM");
        psi.ArgumentList.Add("--");
        psi.ArgumentList.Add(program);
        foreach (string argument in arguments)
            psi.ArgumentList.Add(argument);

        Process process = SharedSpawner.Value.Start(psi);
        var child = new ChildProcess(process, Path.GetFileName(program), logFile);
        return child;
    }

    /// <summary>Asks the process to exit (SIGTERM): QEMU and swtpm both shut down cleanly on it.</summary>
    public void Terminate()
    {
        if (!HasExited)
            _ = LinuxInterop.SendSignal(Id, LinuxInterop.SignalTerminate);
    }

    /// <summary>Kills the process (SIGKILL) and waits for it to be reaped.</summary>
    public async Task KillAsync()
    {
        if (!HasExited)
        {
            try
            {
                _process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Exited between the check and the kill: nothing left to do.
            }
        }

        await _exited.ConfigureAwait(false);
    }

    /// <summary>SIGTERM, then SIGKILL when it has not exited within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        Terminate();
        if (await Task.WhenAny(_exited, Task.Delay(grace)).ConfigureAwait(false) != _exited)
            await KillAsync().ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (!HasExited)
        {
            try
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        _process.Dispose();
    }

    private async Task<int> WaitAsync(Process process, string? logFile)
    {
        StreamWriter? log = logFile is null ? null : new StreamWriter(logFile, append: true) { AutoFlush = true };
        process.StandardInput.Close();
        Task pumpOut = PumpAsync(process.StandardOutput, log, null);
        Task pumpErr = PumpAsync(process.StandardError, log, _stderr);
        await process.WaitForExitAsync().ConfigureAwait(false);
        await Task.WhenAll(pumpOut, pumpErr).ConfigureAwait(false);
        if (log is not null)
            await log.DisposeAsync().ConfigureAwait(false);
        return process.ExitCode;
    }

    private static async Task PumpAsync(StreamReader reader, StreamWriter? log, StderrTail? tail)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is string line)
        {
            tail?.Add(line);
            if (log is not null)
            {
                lock (log)
                    log.WriteLine(line);
            }
        }
    }

    /// <summary>The last few stderr lines, for error messages.</summary>
    private sealed class StderrTail
    {
        private readonly Queue<string> _lines = new();

        public void Add(string line)
        {
            lock (_lines)
            {
                _lines.Enqueue(line);
                if (_lines.Count > 20)
                    _lines.Dequeue();
            }
        }

        public override string ToString()
        {
            lock (_lines)
                return string.Join('\n', _lines);
        }
    }

    /// <summary>The one long-lived thread every child is forked from (see the class remarks).</summary>
    private sealed class Spawner
    {
        private readonly BlockingCollection<(ProcessStartInfo Start, TaskCompletionSource<Process> Result)> _queue = [];

        public Spawner()
        {
            var thread = new Thread(Run) { IsBackground = true, Name = "tl-child-spawner" };
            thread.Start();
        }

        public Process Start(ProcessStartInfo psi)
        {
            var result = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
            _queue.Add((psi, result));
            return result.Task.GetAwaiter().GetResult();
        }

        private void Run()
        {
            foreach (var (psi, result) in _queue.GetConsumingEnumerable())
            {
                try
                {
                    result.SetResult(Process.Start(psi) ?? throw new VmRuntimeException(VmRuntimeFailure.Environment, $"Could not start {psi.FileName}."));
                }
#pragma warning disable CA1031 // Any start failure belongs to the caller waiting on the result, not to this thread.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    result.SetException(e);
                }
            }
        }
    }
}
