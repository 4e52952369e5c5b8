using System.Diagnostics.Metrics;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.Server.Telemetry;

/// <summary>
/// The control plane's metrics (BCL <see cref="Meter"/> only): VMs by the power state their instance view shows, sampled
/// by <see cref="VmPowerStateSampler"/>, and lease claims, recorded by whoever claims a lease (<see cref="LeaseClaimed"/>).
/// </summary>
public sealed class ControlPlaneTelemetry
{
    public const string Name = "TrustedLaunch.ControlPlane";

    private readonly Counter<long> _leaseClaims;
    private volatile IReadOnlyDictionary<PowerState, int> _vms = new Dictionary<PowerState, int>();

    public ControlPlaneTelemetry(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        Meter meter = meters.Create(Name);
        meter.CreateObservableGauge("tl.vms", ObserveVms, "{vm}", "VMs by the power state their instance view shows (PowerState/…), as last sampled.");
        _leaseClaims = meter.CreateCounter<long>("tl.lease.claims", "{claim}",
            "Lease claims by lease kind and outcome (claimed, renewed, lost, reclaimed).");
    }

    /// <summary>Replaces the power-state census the <c>tl.vms</c> gauge reports (every state, zeros included).</summary>
    public void ObservePowerStates(IReadOnlyDictionary<PowerState, int> census) => _vms = census;

    /// <summary>
    /// The hook for lease work (continuous attestation, host long-polls, the maintenance leader): one call per claim
    /// attempt, e.g. <c>LeaseClaimed("attestation", "claimed")</c>. Kinds and outcomes are a short fixed vocabulary.
    /// </summary>
    public void LeaseClaimed(string lease, string outcome) => LeaseClaimed(lease, outcome, 1);

    /// <summary>Several claims of one kind and outcome at once (a batch of posture work claimed in one statement).</summary>
    public void LeaseClaimed(string lease, string outcome, int claims) =>
        _leaseClaims.Add(claims, new KeyValuePair<string, object?>("lease", lease), new KeyValuePair<string, object?>("outcome", outcome));

    private IEnumerable<Measurement<int>> ObserveVms() =>
        _vms.Select(pair => new Measurement<int>(pair.Value, new KeyValuePair<string, object?>("power_state", pair.Key.ToString().ToLowerInvariant())));
}
