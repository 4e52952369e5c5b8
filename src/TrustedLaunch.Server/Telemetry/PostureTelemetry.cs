using System.Diagnostics.Metrics;

namespace TrustedLaunch.Server.Telemetry;

/// <summary>Posture's metrics (BCL <see cref="Meter"/> only): webhook deliveries and the HTTP attempts they took.</summary>
public sealed class PostureTelemetry
{
    public const string Name = "TrustedLaunch.Posture";

    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _attempts;

    public PostureTelemetry(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        Meter meter = meters.Create(Name);
        _deliveries = meter.CreateCounter<long>("tl.webhook.deliveries", "{event}", "Security events handed to webhooks, by outcome (delivered, failed).");
        _attempts = meter.CreateCounter<long>("tl.webhook.attempts", "{request}", "HTTP requests made to deliver security events, retries included.");
    }

    public void Delivered(bool delivered, int attempts)
    {
        _deliveries.Add(1, new KeyValuePair<string, object?>("outcome", delivered ? "delivered" : "failed"));
        _attempts.Add(attempts);
    }
}
