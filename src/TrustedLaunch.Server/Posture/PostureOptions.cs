using TrustedLaunch.Posture.Assessments;

namespace TrustedLaunch.Server.Posture;

/// <summary>How often posture is evaluated and how notifications are delivered (docs/posture.md).</summary>
public sealed record PostureOptions
{
    /// <summary>How often new attestation results and changed VMs are looked for (an attestation also wakes the worker at once).</summary>
    public TimeSpan ChangePollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the worker, woken by a stored result, waits for more before it runs: a busy service folds the results of
    /// that window in one run instead of one run each. An alert is raised this much later at most.
    /// </summary>
    public TimeSpan ResultCoalescing { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Every VM is evaluated at least this often (freshness of attestations, overdue agents).</summary>
    public TimeSpan FullSweepInterval { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Attestation results processed per batch (one transaction each).</summary>
    public int ResultBatchSize { get; init; } = 500;

    /// <summary>Retries of one webhook delivery after its first attempt (exponential backoff with jitter, Polly).</summary>
    public int WebhookRetries { get; init; } = 4;

    /// <summary>The first retry's delay; each next one doubles.</summary>
    public TimeSpan WebhookRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>One attempt's timeout.</summary>
    public TimeSpan WebhookAttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A subscription whose deliveries failed this many times in a row (each after its retries) is disabled.</summary>
    public int WebhookDisableAfterFailures { get; init; } = 5;

    /// <summary>Deliveries in flight at once.</summary>
    public int WebhookParallelism { get; init; } = 16;

    /// <summary>How often the outbox is looked at when nothing woke the dispatcher.</summary>
    public TimeSpan DispatchPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Webhook URLs may be http:// (loopback receivers, tests); otherwise https:// only.</summary>
    public bool AllowHttpWebhooks { get; init; } = true;

    /// <summary>How long a remediation waits for each step's operation (deallocate, update, start).</summary>
    public TimeSpan RemediationStepTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The newest dbx update the operator has loaded (for "dbx should be current"); null: that recommendation is
    /// NotApplicable with cause NoDbxUpdateLoaded. <c>tl server --dbx-update FILE</c> reads it from a signed update.
    /// </summary>
    public DbxRelease? NewestDbx { get; init; }

    /// <summary>Run the background worker and dispatcher (benchmarks drive the engine by hand).</summary>
    public bool RunBackgroundWork { get; init; } = true;
}
