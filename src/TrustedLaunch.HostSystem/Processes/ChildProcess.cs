using System.Diagnostics;

namespace TrustedLaunch.HostSystem.Processes;

/// <summary>
/// A long-running helper process (QEMU, the vTPM) that must die with us: started by <see cref="ProcessSpawner"/>
/// through util-linux <c>setpriv --pdeathsig TERM</c>, which is required here (a VM's processes must never outlive
/// the runtime that supervises them).
/// </summary>
public sealed class ChildProcess : ISupervisedProcess
{
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

    /// <inheritdoc/>
    public Task<int?> Ended => _ended ??= EndedAsync();

    private Task<int?>? _ended;

    private async Task<int?> EndedAsync() => await _exited.ConfigureAwait(false);

    /// <summary>The last lines the process wrote to stderr (QEMU explains a refused command line there).</summary>
    public string StandardErrorTail => _stderr.ToString();

    private readonly StderrTail _stderr = new();

    /// <summary>Starts <paramref name="program"/> (a full path) with <paramref name="arguments"/>; stdout and stderr go to <paramref name="logFile"/> when given.</summary>
    /// <exception cref="ProgramStartException">setpriv is missing, or the program could not be started.</exception>
    public static ChildProcess Start(string program, IEnumerable<string> arguments, string? logFile = null)
    {
        string setpriv = ProcessSpawner.FindSetpriv() ?? throw new ProgramStartException("setpriv",
            "setpriv (util-linux) is missing; it ties the VM's processes to ours so none is left behind.");
        var psi = new ProcessStartInfo { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        Process process = ProcessSpawner.Start(program, arguments, psi, setpriv);
        return new ChildProcess(process, Path.GetFileName(program), logFile);
    }

    /// <summary>Asks the process to exit (SIGTERM): QEMU and swtpm both shut down cleanly on it.</summary>
    public void Terminate()
    {
        if (!HasExited)
            _ = Libc.SendSignal(Id, Libc.SignalTerminate);
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
}
