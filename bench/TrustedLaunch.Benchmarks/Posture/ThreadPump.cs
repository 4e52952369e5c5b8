using System.Collections.Concurrent;

namespace TrustedLaunch.Benchmarks.Posture;

/// <summary>Runs an asynchronous method with every continuation on the calling thread (a synchronization context it pumps).</summary>
internal sealed class ThreadPump : SynchronizationContext, IDisposable
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue = [];

    public static T Run<T>(Func<Task<T>> work)
    {
        SynchronizationContext? previous = Current;
        using var pump = new ThreadPump();
        SetSynchronizationContext(pump);
        try
        {
            Task<T> task = work();
            task.ContinueWith(_ => pump._queue.CompleteAdding(), TaskScheduler.Default);
            foreach ((SendOrPostCallback callback, object? state) in pump._queue.GetConsumingEnumerable())
                callback(state);
            return task.GetAwaiter().GetResult();
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    public override void Post(SendOrPostCallback d, object? state) => _queue.Add((d, state));

    public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException("ThreadPump posts only");

    public void Dispose() => _queue.Dispose();
}
