using TrustedLaunch.ControlPlane.Hosts;

namespace TrustedLaunch.HostAgent;

/// <summary>
/// The host's reports on their way to the control plane, in the order they were made: sent in batches as they come,
/// and kept (and sent again) while the control plane cannot be reached, so no power state, verdict or error is lost
/// across its restart.
/// </summary>
internal sealed class ReportQueue : IDisposable
{
    private readonly List<VmReport> _pending = [];
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Lock _gate = new();

    public void Post(VmReport report)
    {
        lock (_gate)
            _pending.Add(report);
        _signal.Release();
    }

    /// <summary>Sends what is pending until cancelled; a failed batch is kept in front and tried again after <paramref name="retryDelay"/>.</summary>
    public async Task RunAsync(Func<IReadOnlyList<VmReport>, CancellationToken, Task> send, TimeSpan retryDelay, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await _signal.WaitAsync(cancellationToken).ConfigureAwait(false);
            VmReport[] batch;
            lock (_gate)
            {
                batch = [.. _pending];
                _pending.Clear();
            }

            if (batch.Length == 0)
                continue;
            try
            {
                await send(batch, cancellationToken).ConfigureAwait(false);
            }
            catch (Http.ControlPlaneCallException)
            {
                lock (_gate)
                    _pending.InsertRange(0, batch);
                await Task.Delay(retryDelay, cancellationToken).ConfigureAwait(false);
                _signal.Release();
            }
        }
    }

    public void Dispose() => _signal.Dispose();
}
