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
/// the golden genuine bundle against that baseline; an ES256 token; the result stored); each other case is that plus the
/// engine folding the new result(s), so the pipeline's share is the difference (the Ratio column − 1). Single-threaded:
/// wall time is that thread's CPU, plus SQLite's file writes (WAL, synchronous=NORMAL: no fsync per commit).
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

    /// <summary>One attestation without posture: verify, token, store the result.</summary>
    [Benchmark(Baseline = true)]
    public Task<AttestationRecord> Attestation() => _fleet.AttestAsync(failure: null);

    /// <summary>An idle service: each passed attestation folded by its own engine run (the worker wakes at each result).</summary>
    [Benchmark]
    public async Task<PostureRun> AttestationThenPostureRun()
    {
        await _fleet.AttestAsync(failure: null);
        return await _fleet.Engine.RunOnceAsync(fullSweep: false, default);
    }

    /// <summary>The alert path proper: a failed attestation (baseline deviation) repeating the VM's open alert, in its own run.</summary>
    [Benchmark]
    public async Task<PostureRun> FailedAttestationThenPostureRun()
    {
        await _fleet.AttestAsync(failure: nameof(AttestationFailureReason.BaselineDeviation));
        return await _fleet.Engine.RunOnceAsync(fullSweep: false, default);
    }

    /// <summary>A busy service: 10 attestations (of 10 VMs) arrive within the worker's coalescing window and one run folds them.</summary>
    [Benchmark(OperationsPerInvoke = 10)]
    public Task<PostureRun> BurstOf10AttestationsThenOnePostureRun() => BurstAsync(10);

    /// <summary>The same with 100 attestations in the window.</summary>
    [Benchmark(OperationsPerInvoke = 100)]
    public Task<PostureRun> BurstOf100AttestationsThenOnePostureRun() => BurstAsync(100);

    private async Task<PostureRun> BurstAsync(int attestations)
    {
        for (int i = 0; i < attestations; i++)
            await _fleet.AttestAsync(failure: null);
        return await _fleet.Engine.RunOnceAsync(fullSweep: false, default);
    }
}
