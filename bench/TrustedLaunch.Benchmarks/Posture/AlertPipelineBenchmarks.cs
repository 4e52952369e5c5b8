using BenchmarkDotNet.Attributes;
using TrustedLaunch.Attestation;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Benchmarks.Posture;

/// <summary>
/// What the posture pipeline (assessments, alert detection, de-duplication, suppression, events) adds to one
/// attestation, on a fleet of 1,000 store-backed Trusted Launch VMs with plan Standard. <see cref="Attestation"/> is the
/// service's own work for one attestation without posture, HTTP left out (the store calls of
/// <c>AttestationStoreBenchmarks.OneAttestation</c>: nonce issued for the registered VM, state read, nonce spent; verification of
/// the golden genuine bundle against that baseline; an ES256 token; the result stored by the bare store, its posture work
/// folded after the iteration, untimed); each other case stores as the service does (a fingerprint, a repeat folded where
/// it is stored) and runs the engine when a result asked for it, as the worker does, so the pipeline's share is the
/// difference (the Ratio column − 1). Single-threaded: wall time is that thread's CPU, plus SQLite's file writes (WAL,
/// synchronous=NORMAL: no fsync per commit).
/// Goal (issue 14): under 10 % added.
/// CPU time instead of wall time (stable on a busy machine): <see cref="PostureCpu"/>.
/// Run: flock /tmp/tl-build.lock dotnet run -c Release --project bench/TrustedLaunch.Benchmarks -- --filter '*AlertPipelineBenchmarks*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class AlertPipelineBenchmarks
{
    private const int Vms = 1000;
    private PipelineAttestations _fleet = null!;

    [GlobalSetup]
    public void Setup() => _fleet = PipelineAttestations.StartAsync(Vms).GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => _fleet.DisposeAsync().AsTask().GetAwaiter().GetResult();

    // The baseline's results, stored without posture, are folded between iterations: the other cases start steady.
    [IterationCleanup]
    public void FoldBacklog() => _fleet.Engine.RunOnceAsync(fullSweep: false, default).GetAwaiter().GetResult();

    /// <summary>One attestation without posture: verify, token, store the result.</summary>
    [Benchmark(Baseline = true)]
    public Task<AttestationRecord> Attestation()
    {
        _fleet.WithPosture = false;
        return _fleet.AttestAsync(failure: null);
    }

    /// <summary>An idle service: each passed attestation, and an engine run if it was not folded where it was stored.</summary>
    [Benchmark]
    public Task AttestationThenPostureRun() => BurstAsync(1, failure: null);

    /// <summary>The alert path proper: a failed attestation (baseline deviation) repeating the VM's open alert, and its run if any.</summary>
    [Benchmark]
    public Task FailedAttestationThenPostureRun() => BurstAsync(1, nameof(AttestationFailureReason.BaselineDeviation));

    /// <summary>A busy service: 10 attestations (of 10 VMs) arrive within the worker's coalescing window, then one run if any asked for it.</summary>
    [Benchmark(OperationsPerInvoke = 10)]
    public Task BurstOf10AttestationsThenOnePostureRun() => BurstAsync(10, failure: null);

    /// <summary>The same with 100 attestations in the window.</summary>
    [Benchmark(OperationsPerInvoke = 100)]
    public Task BurstOf100AttestationsThenOnePostureRun() => BurstAsync(100, failure: null);

    private async Task BurstAsync(int attestations, string? failure)
    {
        _fleet.WithPosture = true;
        Task wake = _fleet.Signals.NextEvaluationAsync();
        for (int i = 0; i < attestations; i++)
            await _fleet.AttestAsync(failure);
        if (wake.IsCompleted)
            await _fleet.Engine.RunOnceAsync(fullSweep: false, default);
    }
}
