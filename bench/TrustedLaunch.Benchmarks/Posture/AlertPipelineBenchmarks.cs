using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Benchmarks.Attestation;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Posture.Stores;
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
/// Run: flock /tmp/tl-build.lock dotnet run -c Release --project bench/TrustedLaunch.Benchmarks -- --filter '*AlertPipelineBenchmarks*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class AlertPipelineBenchmarks
{
    private const int Vms = 1000;
    private string _directory = "";
    private WebApplication _app = null!;
    private PostureEngine _engine = null!;
    private IAttestationResultStore _results = null!;
    private IVmRegistry _registry = null!;
    private INonceStore _nonces = null!;
    private IBaselineStore _baselines = null!;
    private IAttestationStateStore _states = null!;
    private VirtualMachineRecord[] _vms = [];
    private int _next;
    private AttestationVerifier _verifier = null!;
    private AttestationEvidence _evidence = null!;
    private AttestationExpectations _expectations = null!;
    private TokenSigningKey _key = null!;
    private AttestationTokenIssuer _issuer = null!;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _app.StopAsync().GetAwaiter().GetResult();
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _key.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>One attestation without posture: verify, token, store the result.</summary>
    [Benchmark(Baseline = true)]
    public Task<AttestationRecord> Attestation() => AttestAsync(failure: null);

    /// <summary>An idle service: each passed attestation folded by its own engine run (the worker wakes at each result).</summary>
    [Benchmark]
    public async Task<PostureRun> AttestationThenPostureRun()
    {
        await AttestAsync(failure: null);
        return await _engine.RunOnceAsync(fullSweep: false, default);
    }

    /// <summary>The alert path proper: a failed attestation (baseline deviation) repeating the VM's open alert, in its own run.</summary>
    [Benchmark]
    public async Task<PostureRun> FailedAttestationThenPostureRun()
    {
        await AttestAsync(failure: nameof(AttestationFailureReason.BaselineDeviation));
        return await _engine.RunOnceAsync(fullSweep: false, default);
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
            await AttestAsync(failure: null);
        return await _engine.RunOnceAsync(fullSweep: false, default);
    }

    private async Task<AttestationRecord> AttestAsync(string? failure)
    {
        // The service's store calls (AttestationService): the challenge's nonce, the state read, the spend, the result with its writes.
        Guid attested = _expectations.VmId;
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        if (!await _nonces.AddForRegisteredVmAsync(new IssuedNonce(attested, nonce, now, now.AddMinutes(5)), default))
            throw new InvalidOperationException("VM not registered");
        await _states.ReadAsync(attested, default);
        if ((await _nonces.ConsumeAsync(attested, nonce, now, default)).Result != NonceConsumption.Consumed)
            throw new InvalidOperationException("nonce not consumed");
        AttestationResult result = _verifier.Verify(_evidence, _expectations);
        string token = _issuer.Issue(result, _expectations.VmId);
        Guid vmId = _vms[_next++ % Vms].VmId;
        return await _results.AddAsync(new AttestationRecord
        {
            VmId = vmId, At = DateTimeOffset.UtcNow, Verdict = failure is null ? AttestationVerdict.Pass : AttestationVerdict.Fail, Reason = failure,
            Component = failure is null ? null : "PCR[7]", Message = failure is null ? null : "PCR 7 differs from the baseline",
            TokenId = token[^16..], ClaimsJson = "{}",
        }, new AttestationStateWrites(result.QuoteClock, null, now), default);
    }

    private async Task SetupAsync()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"tl-alert-bench-{Guid.NewGuid():N}");
        (_app, string subscriptionId, _vms) = await BenchFleet.StartAsync(_directory, Vms, backgroundWork: false);
        IServiceProvider services = _app.Services;
        await services.GetRequiredService<SqlSecurityStore>().SetTierAsync(subscriptionId, PricingTier.Standard, DateTimeOffset.UtcNow, default);
        _engine = services.GetRequiredService<PostureEngine>();
        _results = services.GetRequiredService<IAttestationResultStore>();
        await _engine.RunOnceAsync(fullSweep: true, default);

        _verifier = new AttestationVerifier(TimeProvider.System, new VerificationCaches(new VerificationCacheOptions()));
        GoldenEvidence golden = GoldenEvidence.Load(_verifier);
        _evidence = golden.Evidence;
        _expectations = golden.Expectations with { Baseline = golden.Baseline };
        _registry = services.GetRequiredService<IVmRegistry>();
        _nonces = services.GetRequiredService<INonceStore>();
        _baselines = services.GetRequiredService<IBaselineStore>();
        _states = services.GetRequiredService<IAttestationStateStore>();
        await _registry.RegisterAsync(new RegisteredVm(_expectations.VmId, null, DateTimeOffset.UtcNow), default);
        await _baselines.SaveAsync(_expectations.VmId, new string('x', 8192), DateTimeOffset.UtcNow, default);
        _key = TokenSigningKey.Create(TokenAlgorithm.ES256);
        _issuer = new AttestationTokenIssuer(_key, "https://bench", TimeProvider.System);
    }
}
