using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TrustedLaunch.HostAgent.Telemetry;

/// <summary>
/// The host agent's spans and metrics, in the BCL only (the process that runs the agent exports them). The relay's span
/// is the root of an attestation's trace: HttpClient carries it to the attestation service in W3C <c>traceparent</c>.
/// </summary>
internal static class HostAgentTelemetry
{
    public const string Name = "TrustedLaunch.HostAgent";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> RelayedCount = Meter.CreateCounter<long>("tl.host.attestations", "{attestation}",
        "Attestations relayed by this host, by outcome (pass, fail, AgentUnresponsive).");

    private static readonly Histogram<double> RelayDuration = Meter.CreateHistogram("tl.host.attestation.duration", "s",
        "Time to relay one attestation: challenge, the guest agent's evidence, the service's verdict.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });

    public static Activity? StartRelay(Guid vmId)
    {
        Activity? activity = Source.StartActivity("relay attestation", ActivityKind.Internal);
        activity?.SetTag("tl.vm.id", vmId.ToString());
        return activity;
    }

    public static void Relayed(Activity? activity, string outcome, TimeSpan elapsed)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        RelayedCount.Add(1, tag);
        RelayDuration.Record(elapsed.TotalSeconds, tag);
        activity?.SetTag("tl.outcome", outcome);
        if (outcome != "pass")
            activity?.SetStatus(ActivityStatusCode.Error, outcome);
    }
}
