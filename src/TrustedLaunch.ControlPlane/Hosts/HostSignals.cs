using System.Collections.Concurrent;

namespace TrustedLaunch.ControlPlane.Hosts;

/// <summary>
/// Wakes the long-polls of a host when its VMs' desired state changes in this process. A doorbell over the store,
/// not a queue: a poll always re-reads the store, and a missed ring (a lost notification) only delays the answer
/// to the poll's timeout.
/// </summary>
public sealed class HostSignals
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Raised by <see cref="Notify"/>: the server passes the ring to the other replicas of its database (PostgreSQL
    /// NOTIFY), which <see cref="Wake"/> their polls of the host.
    /// </summary>
    public event Action<string>? Rung;

    /// <summary>Wakes every poll of <paramref name="hostName"/> that is waiting now, here and (through <see cref="Rung"/>) in other replicas.</summary>
    public void Notify(string hostName)
    {
        Wake(hostName);
        Rung?.Invoke(hostName);
    }

    /// <summary>Wakes the polls of <paramref name="hostName"/> waiting in this process only (a ring from another replica).</summary>
    public void Wake(string hostName)
    {
        if (_waiters.TryRemove(hostName, out TaskCompletionSource? waiter))
            waiter.TrySetResult();
    }

    /// <summary>A task that completes at the next <see cref="Notify"/> for the host (take it before reading the store).</summary>
    public Task NextAsync(string hostName) =>
        _waiters.GetOrAdd(hostName, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
}
