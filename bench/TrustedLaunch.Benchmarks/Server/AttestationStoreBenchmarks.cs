using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Benchmarks.Server;

/// <summary>
/// The SQLite work of one attestation on a real file (WAL, synchronous=NORMAL): issue a nonce, spend it, read the VM and
/// its baseline and quote clock, store the result and the clock; and the result listing behind <c>GET …/attestations</c>.
/// <see cref="OneAttestation"/> is the service's sequence (issue 19: one read, one write turn per step);
/// <see cref="OneAttestationPerStore"/> the sequence before it (a connection and a statement per store call).
/// Run: dotnet run -c Release --project bench/TrustedLaunch.Benchmarks -- --filter '*AttestationStoreBenchmarks*' --job short
/// </summary>
[MemoryDiagnoser]
public class AttestationStoreBenchmarks
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);
    private readonly Guid _vm = Guid.NewGuid();
    private string _directory = "";
    private SqliteDatabase _database = null!;
    private SqlNonceStore _nonces = null!;
    private SqlAttestationResultStore _results = null!;
    private SqlBaselineStore _baselines = null!;
    private SqlVmRegistry _vms = null!;
    private SqlQuoteClockStore _clocks = null!;
    private SqlAttestationStateStore _states = null!;
    private ulong _clock;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"tl-store-bench-{Guid.NewGuid():N}");
        _database = SqliteDatabase.Open(Path.Combine(_directory, "tl.db"));
        _nonces = new SqlNonceStore(_database);
        _results = new SqlAttestationResultStore(_database);
        _baselines = new SqlBaselineStore(_database);
        _vms = new SqlVmRegistry(_database);
        _clocks = new SqlQuoteClockStore(_database);
        _states = new SqlAttestationStateStore(_database);
        _vms.RegisterAsync(new RegisteredVm(_vm, null, T0), default).GetAwaiter().GetResult();
        _baselines.SaveAsync(_vm, new string('x', 8192), T0, default).GetAwaiter().GetResult();
        for (int i = 0; i < 1000; i++)
            _results.AddAsync(Record(), default).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _database.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>
    /// Every store call one passing attestation makes, in the service's order: challenge, state read with the nonce, then the
    /// spend and the result with its clock in one transaction.
    /// </summary>
    [Benchmark(Baseline = true)]
    public async Task<AttestationRecord> OneAttestation()
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        if (!await _nonces.AddForRegisteredVmAsync(new IssuedNonce(_vm, nonce, T0, T0.AddMinutes(5)), default))
            throw new InvalidOperationException("VM not registered");
        if ((await _states.ReadAsync(_vm, nonce, default))?.Nonce is null)
            throw new InvalidOperationException("nonce not read");
        SpentResult spent = await _results.AddSpendingNonceAsync(Record(), new AttestationStateWrites(NextClock(), null, T0.AddSeconds(1)), nonce, default);
        return spent.Record ?? throw new InvalidOperationException("nonce not consumed");
    }

    /// <summary>The sequence before the spend joined the result's transaction (issue 19): the spend its own commit.</summary>
    [Benchmark]
    public async Task<AttestationRecord> OneAttestationSpendApart()
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        if (!await _nonces.AddForRegisteredVmAsync(new IssuedNonce(_vm, nonce, T0, T0.AddMinutes(5)), default))
            throw new InvalidOperationException("VM not registered");
        await _states.ReadAsync(_vm, default);
        if ((await _nonces.ConsumeAsync(_vm, nonce, T0.AddSeconds(1), default)).Result != NonceConsumption.Consumed)
            throw new InvalidOperationException("nonce not consumed");
        return await _results.AddAsync(Record(), new AttestationStateWrites(NextClock(), null, T0), default);
    }

    /// <summary>The same attestation as the service made it before issue 19's store work: one connection and statement per store call.</summary>
    [Benchmark]
    public async Task<AttestationRecord> OneAttestationPerStore()
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        await _vms.GetAsync(_vm, default);
        await _nonces.AddAsync(new IssuedNonce(_vm, nonce, T0, T0.AddMinutes(5)), default);
        await _vms.GetAsync(_vm, default);
        if ((await _nonces.ConsumeAsync(_vm, nonce, T0.AddSeconds(1), default)).Result != NonceConsumption.Consumed)
            throw new InvalidOperationException("nonce not consumed");
        await _baselines.GetAsync(_vm, default);
        await _clocks.GetAsync(_vm, default);
        await _clocks.AdvanceAsync(_vm, NextClock(), T0, default);
        return await _results.AddAsync(Record(), default);
    }

    private TrustedLaunch.Attestation.QuoteClock NextClock() => new(++_clock, 1, 0, Safe: true);

    [Benchmark]
    public Task<IReadOnlyList<AttestationRecord>> ListLatest20() => _results.ListAsync(_vm, 20, default);

    private AttestationRecord Record() => new()
    {
        VmId = _vm, At = T0, Verdict = AttestationVerdict.Pass, TokenId = Guid.NewGuid().ToString("N"),
        ClaimsJson = "{\"secureboot\":true,\"x-ms-attestation-type\":\"azurevm\",\"x-ms-azurevm-vmid\":\"" + _vm + "\"}",
    };
}
