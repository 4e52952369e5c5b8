using System.Diagnostics;
using System.Diagnostics.Metrics;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Telemetry;

/// <summary>
/// The attestation service's metrics and spans, in the BCL's <see cref="Meter"/> and <see cref="ActivitySource"/> only:
/// exporters are the host's business (<see cref="ServiceTelemetry"/>). Tags are low-cardinality (verdict, reason, step,
/// outcome); a VM's id goes on spans, never on metrics. docs/observability.md lists every instrument.
/// </summary>
public sealed class AttestationTelemetry
{
    /// <summary>The name of this area's <see cref="Meter"/> and <see cref="ActivitySource"/>.</summary>
    public const string Name = "TrustedLaunch.Attestation";

    /// <summary>Spans of one attestation: <c>attest</c> with children <c>verify</c>, <c>store</c>, <c>token</c>.</summary>
    public static readonly ActivitySource Source = new(Name);

    // Seconds: a verification is milliseconds, a slow store under load can be seconds.
    private static readonly double[] StepBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Counter<long> _attestations;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _steps;
    private readonly Counter<long> _noncesIssued;
    private readonly Counter<long> _noncesSpent;

    public AttestationTelemetry(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        Meter meter = meters.Create(Name);
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = StepBuckets };
        _attestations = meter.CreateCounter<long>("tl.attestations", "{attestation}", "Attestations decided, by verdict and reason.");
        _duration = meter.CreateHistogram("tl.attestation.duration", "s", "Time to decide one attestation, from request to stored result.", advice: advice);
        _steps = meter.CreateHistogram("tl.attestation.step.duration", "s", "Time spent in one step of an attestation (verify, store, token).", advice: advice);
        _noncesIssued = meter.CreateCounter<long>("tl.nonces.issued", "{nonce}", "Challenge nonces issued.");
        _noncesSpent = meter.CreateCounter<long>("tl.nonces.spent", "{nonce}", "Nonces presented with evidence, by outcome (Consumed, AlreadyUsed, Expired, Unknown).");
    }

    /// <summary>Starts the span of one attestation (null when nobody listens).</summary>
    public static Activity? StartAttestation(Guid vmId)
    {
        Activity? activity = Source.StartActivity("attest");
        activity?.SetTag("tl.vm.id", vmId.ToString());
        return activity;
    }

    /// <summary>Starts the span of one step; <see cref="TimedStep.Dispose"/> records its duration.</summary>
    public TimedStep StartStep(string step, TimeProvider time) => new(this, step, Source.StartActivity(step), time);

    public void NonceIssued() => _noncesIssued.Add(1);

    public void NonceSpent(NonceConsumption consumption) =>
        _noncesSpent.Add(1, new KeyValuePair<string, object?>("outcome", consumption.ToString()));

    /// <summary>Counts a failure the host relay reported (the guest agent did not answer): no evidence, no steps.</summary>
    public void AgentUnresponsive() =>
        _attestations.Add(1, new TagList { { "verdict", "fail" }, { "reason", "AgentUnresponsive" } });

    /// <summary>Counts one decided attestation and its total time; tags the current span with the verdict.</summary>
    public void Decided(Activity? activity, AttestationOutcome outcome, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        string verdict = outcome.Record?.Verdict switch
        {
            AttestationVerdict.Pass => "pass",
            AttestationVerdict.Fail => "fail",
            _ => "none", // an unknown VM: nothing was decided or stored
        };
        string reason = outcome.Reason ?? "none";
        var tags = new TagList { { "verdict", verdict }, { "reason", reason } };
        _attestations.Add(1, tags);
        _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("verdict", verdict));
        if (activity is null)
            return;
        activity.SetTag("tl.verdict", verdict);
        activity.SetTag("tl.reason", reason);
        if (outcome.Record is { } record)
            activity.SetTag("tl.result.id", record.Id);
        if (verdict != "pass")
            activity.SetStatus(ActivityStatusCode.Error, reason);
    }

    /// <summary>One timed step (a span and a histogram sample); dispose it when the step ends.</summary>
    public readonly struct TimedStep : IDisposable
    {
        private readonly AttestationTelemetry _owner;
        private readonly string _name;
        private readonly Activity? _activity;
        private readonly TimeProvider _time;
        private readonly long _start;

        internal TimedStep(AttestationTelemetry owner, string name, Activity? activity, TimeProvider time)
        {
            _owner = owner;
            _name = name;
            _activity = activity;
            _time = time;
            _start = time.GetTimestamp();
        }

        public void Dispose()
        {
            _owner._steps.Record(_time.GetElapsedTime(_start).TotalSeconds, new KeyValuePair<string, object?>("step", _name));
            _activity?.Dispose();
        }
    }
}
