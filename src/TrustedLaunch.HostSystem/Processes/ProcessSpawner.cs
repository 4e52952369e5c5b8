using System.Collections.Concurrent;
using System.Diagnostics;

namespace TrustedLaunch.HostSystem.Processes;

/// <summary>
/// Starts every child process TrustedLaunch runs, under one rule: the child dies with us. Linux delivers
/// PR_SET_PDEATHSIG when the *thread* that forked the child exits (prctl(2)), and .NET forks on whichever thread calls
/// <see cref="Process.Start()"/> — a thread-pool thread that may retire at any time. So every child is forked from one
/// dedicated thread that lives as long as this process, through util-linux <c>setpriv --pdeathsig TERM</c>, which
/// sets the signal and then execs the program (same pid). If we are killed outright (SIGKILL, OOM), the kernel sends
/// the children SIGTERM: no orphans.
/// </summary>
internal static class ProcessSpawner
{
    private static readonly Lazy<SpawnerThread> Thread = new(() => new SpawnerThread());

    /// <summary>util-linux setpriv, or null when absent (non-Linux, or a minimal system).</summary>
    public static string? FindSetpriv() => OperatingSystem.IsLinux() ? ExecutableSearch.Find("setpriv") : null;

    /// <summary>
    /// Starts <paramref name="program"/> (a full path) with the start settings of <paramref name="template"/>, through
    /// <paramref name="setpriv"/> when given; without it (no setpriv on this host) the child is not tied to us.
    /// </summary>
    /// <exception cref="ProgramStartException">The program could not be started.</exception>
    public static Process Start(string program, IEnumerable<string> arguments, ProcessStartInfo template, string? setpriv)
    {
        template.FileName = setpriv ?? program;
        template.UseShellExecute = false;
        template.ArgumentList.Clear();
        if (setpriv is not null)
        {
            template.ArgumentList.Add("--pdeathsig");
            template.ArgumentList.Add("TERM");
            template.ArgumentList.Add("--");
            template.ArgumentList.Add(program);
        }

        foreach (string argument in arguments)
            template.ArgumentList.Add(argument);
        return Thread.Value.Start(template, Path.GetFileName(program));
    }

    /// <summary>The one long-lived thread every child is forked from (see the class remarks).</summary>
    private sealed class SpawnerThread
    {
        private readonly BlockingCollection<(ProcessStartInfo Start, string Name, TaskCompletionSource<Process> Result)> _queue = [];

        public SpawnerThread()
        {
            var thread = new System.Threading.Thread(Run) { IsBackground = true, Name = "tl-child-spawner" };
            thread.Start();
        }

        public Process Start(ProcessStartInfo psi, string name)
        {
            var result = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
            _queue.Add((psi, name, result));
            return result.Task.GetAwaiter().GetResult();
        }

        private void Run()
        {
            foreach (var (psi, name, result) in _queue.GetConsumingEnumerable())
            {
                try
                {
                    result.SetResult(Process.Start(psi) ?? throw new ProgramStartException(name, $"Could not start {name}."));
                }
                catch (System.ComponentModel.Win32Exception e)
                {
                    result.SetException(new ProgramStartException(name, $"Could not start {name}: {e.Message}", e));
                }
#pragma warning disable CA1031 // Any other start failure belongs to the caller waiting on the result, not to this thread.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    result.SetException(e);
                }
            }
        }
    }
}

/// <summary>A program is not installed or could not be started.</summary>
public sealed class ProgramStartException : Exception
{
    public ProgramStartException() { }

    public ProgramStartException(string message) : base(message) { }

    public ProgramStartException(string message, Exception innerException) : base(message, innerException) { }

    public ProgramStartException(string program, string message, Exception? innerException = null)
        : base(message, innerException) => Program = program;

    /// <summary>The program's name.</summary>
    public string? Program { get; }
}
