using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
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
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Benchmarks.Posture;

/// <summary>
/// A fleet of store-backed Trusted Launch VMs with plan Standard and the service's work for one attestation without
/// HTTP (<see cref="AttestAsync"/>): the store calls of <c>AttestationStoreBenchmarks.OneAttestation</c> (nonce issued for the
/// registered VM, state read, nonce spent), verification of the golden genuine bundle against its baseline, an ES256
/// token, the result (with the token's claims, as the service stores them) stored for the next VM of the fleet. Shared by <see cref="AlertPipelineBenchmarks"/> and <see cref="PostureCpu"/>.
/// </summary>
internal sealed class PipelineAttestations : IAsyncDisposable
{
    private readonly string _directory;
    private readonly WebApplication _app;
    private readonly VirtualMachineRecord[] _vms;
    private readonly IAttestationResultStore _results;
    private readonly IAttestationResultStore _withoutPosture;
    private readonly INonceStore _nonces;
    private readonly IAttestationStateStore _states;
    private readonly AttestationVerifier _verifier;
    private readonly AttestationEvidence _evidence;
    private readonly AttestationExpectations _expectations;
    private readonly TokenSigningKey _key;
    private readonly AttestationTokenIssuer _issuer;
    private readonly int[] _next = new int[3];

    private PipelineAttestations(string directory, WebApplication app, VirtualMachineRecord[] vms, AttestationVerifier verifier, GoldenEvidence golden,
        TokenSigningKey key)
    {
        _directory = directory;
        _app = app;
        _vms = vms;
        IServiceProvider services = app.Services;
        Engine = services.GetRequiredService<PostureEngine>();
        _results = services.GetRequiredService<IAttestationResultStore>();
        _withoutPosture = new SqlAttestationResultStore(services.GetRequiredService<StoreDatabase>());
        Signals = services.GetRequiredService<PostureSignals>();
        _nonces = services.GetRequiredService<INonceStore>();
        _states = services.GetRequiredService<IAttestationStateStore>();
        _verifier = verifier;
        _evidence = golden.Evidence;
        _expectations = golden.Expectations with { Baseline = golden.Baseline };
        _key = key;
        _issuer = new AttestationTokenIssuer(key, "https://bench", TimeProvider.System);
    }

    public PostureEngine Engine { get; }

    /// <summary>The service's wake-ups: a result that posture did not fold where it was stored signals the engine.</summary>
    public PostureSignals Signals { get; }

    /// <summary>
    /// Whether results are stored as the service stores them, through posture's decorator (a fingerprint each, a repeat
    /// folded in its own transaction, a signal otherwise); false: by the bare store, posture's work left for later.
    /// </summary>
    public bool WithPosture { get; set; } = true;

    /// <summary>
    /// Whether a pass keeps the golden evidence's guest finding (the unsigned <c>ttyprintk</c> refused), so that every pass
    /// repeats the VM's open untrusted-module alert; otherwise the claims are a healthy VM's (no findings).
    /// </summary>
    public bool WithFindings { get; set; } = true;

    /// <summary>
    /// With <see cref="WithFindings"/>: each pass's finding words the refusal differently (a counter in the kernel's
    /// message), so that no result repeats the one before and every one goes through the engine (a fleet in flux).
    /// </summary>
    public bool ChangingFindings { get; set; }

    private int _changes;

    /// <summary>Starts the service with <paramref name="vms"/> VMs (one passed result each), plan Standard, and a first full sweep done.</summary>
    public static async Task<PipelineAttestations> StartAsync(int vms)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"tl-alert-bench-{Guid.NewGuid():N}");
        (WebApplication app, string subscriptionId, VirtualMachineRecord[] fleet) = await BenchFleet.StartAsync(directory, vms, backgroundWork: false);
        IServiceProvider services = app.Services;
        await services.GetRequiredService<SqlSecurityStore>().SetTierAsync(subscriptionId, PricingTier.Standard, DateTimeOffset.UtcNow, default);
        await services.GetRequiredService<PostureEngine>().RunOnceAsync(fullSweep: true, default);

        var verifier = new AttestationVerifier(TimeProvider.System, new VerificationCaches(new VerificationCacheOptions()));
        GoldenEvidence golden = GoldenEvidence.Load(verifier);
        await services.GetRequiredService<IVmRegistry>().RegisterAsync(new RegisteredVm(golden.Expectations.VmId, null, DateTimeOffset.UtcNow), default);
        await services.GetRequiredService<IBaselineStore>().SaveAsync(golden.Expectations.VmId, new string('x', 8192), DateTimeOffset.UtcNow, default);
        return new PipelineAttestations(directory, app, fleet, verifier, golden, TokenSigningKey.Create(TokenAlgorithm.ES256));
    }

    /// <summary>One attestation as the service makes it, HTTP left out; <paramref name="failure"/> stores a failed result with that reason.</summary>
    public async Task<AttestationRecord> AttestAsync(string? failure)
    {
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
        Guid vmId = NextVm(ChangingFindings ? 2 : WithFindings ? 0 : 1);
        return await (WithPosture ? _results : _withoutPosture).AddAsync(new AttestationRecord
        {
            VmId = vmId, At = DateTimeOffset.UtcNow, Verdict = failure is null ? AttestationVerdict.Pass : AttestationVerdict.Fail, Reason = failure,
            Component = failure is null ? null : "PCR[7]", Message = failure is null ? null : "PCR 7 differs from the baseline",
            TokenId = token[^16..], ClaimsJson = failure is null ? ClaimsOf(token) : "{}",
        }, new AttestationStateWrites(result.QuoteClock, null, now), default);
    }

    /// <summary>
    /// Only the store call of <see cref="AttestAsync"/>: a pass with the claims of a token issued once, stored with
    /// posture (<see cref="WithPosture"/>: the next VM of the case's third of the fleet) or without (the next VM of the
    /// last third, whose results are left unfolded, so that the other VMs stay steady without an engine run).
    /// </summary>
    public Task<AttestationRecord> StoreAsync()
    {
        _claims ??= ClaimsOf(_issuer.Issue(_verifier.Verify(_evidence, _expectations), _expectations.VmId));
        Guid vmId = NextVm(!WithPosture ? 2 : WithFindings ? 0 : 1);
        return (WithPosture ? _results : _withoutPosture).AddAsync(new AttestationRecord
        {
            VmId = vmId, At = DateTimeOffset.UtcNow, Verdict = AttestationVerdict.Pass, TokenId = Guid.NewGuid().ToString("N")[..16], ClaimsJson = _claims,
        }, new AttestationStateWrites(null, null, DateTimeOffset.UtcNow), default);
    }

    private string? _claims;

    // Each kind of claims has its third of the fleet, so a steady VM's results are all alike, as they are in a steady fleet.
    private Guid NextVm(int kind)
    {
        int third = _vms.Length / 3;
        return _vms[kind * third + _next[kind]++ % third].VmId;
    }

    // What the service stores with a pass: the token's claims (its JWS payload), a few kilobytes that posture reads.
    private string ClaimsOf(string token)
    {
        byte[] payload = Base64Url.DecodeFromChars(token.AsSpan(token.IndexOf('.') + 1, token.LastIndexOf('.') - token.IndexOf('.') - 1));
        if (WithFindings && !ChangingFindings)
            return Encoding.UTF8.GetString(payload);
        JsonObject claims = JsonNode.Parse(payload)!.AsObject();
        if (!WithFindings)
            claims.Remove(AttestationClaims.Findings);
        else
            claims[AttestationClaims.Findings]![0]!["message"] = $"Loading of unsigned module is rejected (#{++_changes})";
        return claims.ToJsonString();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _key.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
