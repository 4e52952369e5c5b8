namespace TrustedLaunch.HostSystem.Processes;

/// <summary>
/// A long-running process a supervisor watches and stops: a <see cref="ChildProcess"/> (ours, dies with us) or a
/// <see cref="DetachedProcess"/> (outlives us, and can be adopted again by a later supervisor).
/// </summary>
public interface ISupervisedProcess : IDisposable
{
    /// <summary>The program's name for messages (<c>qemu-system-x86_64</c>, <c>tl-vtpm</c>).</summary>
    string DisplayName { get; }

    int Id { get; }

    /// <summary>Completes when the process has exited, with its exit code when it is known (only a parent learns it).</summary>
    Task<int?> Ended { get; }

    bool HasExited { get; }

    /// <summary>The last lines the process wrote to stderr (QEMU explains a refused command line there).</summary>
    string StandardErrorTail { get; }

    /// <summary>Asks the process to exit (SIGTERM).</summary>
    void Terminate();

    /// <summary>Kills the process (SIGKILL) and waits until it is gone.</summary>
    Task KillAsync();

    /// <summary>SIGTERM, then SIGKILL when it has not exited within <paramref name="grace"/>.</summary>
    Task StopAsync(TimeSpan grace);
}
