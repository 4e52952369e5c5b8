using System.Collections.Concurrent;

namespace TrustedLaunch.ControlPlane.Hosts;

/// <summary>
/// Wakes the long-polls of a host when its VMs' desired state changes in this process. A doorbell over the store,
/// not a queue: a poll always re-reads the store, and a missed ring (another replica wrote) only delays the answer
/// to the poll's timeout.
/// </summary>
public sealed class HostSignals
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Wakes every poll of <paramref name="hostName"/> that is waiting now.</summary>
    public void Notify(string hostName)
    {
        if (_waiters.TryRemove(hostName, out TaskCompletionSource? waiter))
            waiter.TrySetResult();
    }

    /// <summary>A task that completes at the next <see cref="Notify"/> for the host (take it before reading the store).</summary>
    public Task NextAsync(string hostName) =>
        _waiters.GetOrAdd(hostName, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
}
