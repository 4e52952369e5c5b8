using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TrustedLaunch.Server.Replicas;

namespace TrustedLaunch.Server.Posture;

/// <summary>
/// Runs the engine: shortly after an attestation result is stored here (<see cref="PostureOptions.ResultCoalescing"/>) and every
/// <see cref="PostureOptions.ChangePollInterval"/>, on every replica, for the results and changed VMs it can claim (whichever
/// replica stored them; another process's VM writes included); on the maintenance leader also a full sweep every
/// <see cref="PostureOptions.FullSweepInterval"/> (the first at start-up). A failed run is logged and retried; it never stops the service.
/// </summary>
internal sealed class PostureWorker(PostureEngine engine, MaintenanceLeader leader, PostureSignals signals, PostureOptions options, TimeProvider time,
    ILogger<PostureWorker> logger)
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
                // Every replica folds the results and evaluates the VM changes it claims (docs/scale-out.md, posture work);
                // the sweeps are the maintenance leader's. A replica that becomes leader sweeps first.
                if (!leader.IsLeader)
                {
                    nextSweep = DateTimeOffset.MinValue;
                    await engine.RunClaimedAsync(stoppingToken);
                }
                else
                {
                    bool sweep = time.GetUtcNow() >= nextSweep;
                    await engine.RunOnceAsync(sweep, stoppingToken);
                    if (sweep)
                        nextSweep = time.GetUtcNow() + options.FullSweepInterval;
                }
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
                // Woken by a result: let the results arriving meanwhile join it, so one run (whose reads and transaction
                // cost about a millisecond whatever it folds) folds many (docs/benchmarks.md, the alert pipeline).
                if (wake.IsCompleted && options.ResultCoalescing > TimeSpan.Zero)
                    await Task.Delay(options.ResultCoalescing, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
