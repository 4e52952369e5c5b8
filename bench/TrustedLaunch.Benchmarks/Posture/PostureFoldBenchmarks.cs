using BenchmarkDotNet.Attributes;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Benchmarks.Posture;

/// <summary>
/// What posture adds to the one store call of an attestation when the result repeats what posture concluded for its VM
/// (docs/posture.md, a repeat folded where it is stored): the bare result store (<see cref="StoreResult"/>) against the
/// service's (<see cref="StoreResultFoldedWhereStored"/>: the fingerprint, the fold's statement), for a healthy pass and
/// for a pass that repeats the VM's open untrusted-module alert. 1,000 store-backed VMs, plan Standard, SQLite; the bare
/// store writes to VMs of its own (<see cref="PipelineAttestations.StoreAsync"/>), so every folded store meets a marked VM.
/// Run: flock /tmp/tl-build.lock dotnet run -c Release --project bench/TrustedLaunch.Benchmarks -- --filter '*PostureFoldBenchmarks*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class PostureFoldBenchmarks
{
    private PipelineAttestations _fleet = null!;

    /// <summary>Whether the VM's passes repeat its open untrusted-module alert.</summary>
    [Params(false, true)]
    public bool RepeatsAlert { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _fleet = PipelineAttestations.StartAsync(1000).GetAwaiter().GetResult();
        _fleet.WithFindings = RepeatsAlert;
        _fleet.WithPosture = true;
        for (int i = 0; i < 333; i++)
            _fleet.StoreAsync().GetAwaiter().GetResult(); // the first result of each VM goes through the engine, which marks it
        _fleet.Engine.RunOnceAsync(fullSweep: false, default).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _fleet.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true)]
    public Task<AttestationRecord> StoreResult()
    {
        _fleet.WithPosture = false;
        return _fleet.StoreAsync();
    }

    [Benchmark]
    public async Task<AttestationRecord> StoreResultFoldedWhereStored()
    {
        _fleet.WithPosture = true;
        AttestationRecord stored = await _fleet.StoreAsync();
        return stored.PostureFolded ? stored : throw new InvalidOperationException("the result was not folded where it was stored");
    }
}
