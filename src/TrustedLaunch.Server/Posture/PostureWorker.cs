using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TrustedLaunch.Server.Posture;

/// <summary>
/// Runs the engine: at once when an attestation result is stored, every <see cref="PostureOptions.ChangePollInterval"/>
/// for changed VMs (another process's writes included), and a full sweep every <see cref="PostureOptions.FullSweepInterval"/>
/// (the first at start-up). A failed run is logged and retried; it never stops the service.
/// </summary>
internal sealed class PostureWorker(PostureEngine engine, PostureSignals signals, PostureOptions options, TimeProvider time, ILogger<PostureWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        DateTimeOffset nextSweep = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            Task wake = signals.NextEvaluationAsync();
            try
            {
                bool sweep = time.GetUtcNow() >= nextSweep;
                await engine.RunOnceAsync(sweep, stoppingToken);
                if (sweep)
                    nextSweep = time.GetUtcNow() + options.FullSweepInterval;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // the worker outlives any one failure (a busy database, a bad row); each is logged
            catch (Exception e)
#pragma warning restore CA1031
            {
                PostureLog.EvaluationFailed(logger, e);
            }

            try
            {
                // Real time, not the injected clock: the interval paces the loop, the clock decides freshness.
                await Task.WhenAny(wake, Task.Delay(options.ChangePollInterval, stoppingToken));
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
