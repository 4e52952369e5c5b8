using BenchmarkDotNet.Attributes;
using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;


namespace TrustedLaunch.Benchmarks.Attestation;

/// <summary>
/// In-process verification of one genuine evidence bundle (the golden swtpm-made bundle of the Secure Boot corpus
/// boot, 4 banks, 11 PCRs each, 19.8 KB TCG log): AK certificate checks, quote signature + PCR digest, replay in 4
/// banks, appraisal, baseline, token signing. Goal (issue 6): at least 5,000 per second per core, i.e. under 200 µs.
/// The AK chain build (two P-384 signatures) is cached per certificate, as for a VM that re-attests; see docs/attestation.md.
/// <see cref="ContentCaches"/> false measures the first sight of the log: replay and every digest recomputed.
/// </summary>
[MemoryDiagnoser]
public class AttestationVerifierBenchmarks : IDisposable
{
    private AttestationVerifier _verifier = null!;
    private byte[] _json = [];
    private AttestationEvidence _evidence = null!;
    private AttestationExpectations _expectations = null!;
    private AttestationExpectations _withBaseline = null!;
    private TokenSigningKey _es256 = null!;
    private TokenSigningKey _rs256 = null!;
    private AttestationTokenIssuer _es256Issuer = null!;
    private AttestationTokenIssuer _rs256Issuer = null!;

    /// <summary>
    /// With content caches (the service's steady state: a re-attesting VM's log and a fleet's db certificates seen
    /// before) or without (the first sight of a log and of every certificate in it: every hash recomputed).
    /// </summary>
    [Params(true, false)]
    public bool ContentCaches { get; set; } = true;

    [GlobalSetup]
    public void Setup()
    {
        // Without content caches every log is parsed and replayed and every large digest computed afresh: a log seen
        // for the first time. Certificate names, the AK chain and key stay cached in both cases, as a fleet's
        // certificates are few (without them each certificate's X.509 decoding adds ~0.4 ms, the chain ~4 ms).
        _verifier = new AttestationVerifier(TimeProvider.System, new VerificationCaches(ContentCaches
            ? new VerificationCacheOptions()
            : new VerificationCacheOptions { ReplayEntries = 0, DigestEntries = 0 }));
        GoldenEvidence golden = GoldenEvidence.Load(_verifier);
        _json = golden.Json;
        _evidence = golden.Evidence;
        _expectations = golden.Expectations;
        _withBaseline = golden.Expectations with { Baseline = golden.Baseline };
        _es256 = TokenSigningKey.Create(TokenAlgorithm.ES256);
        _rs256 = TokenSigningKey.Create(TokenAlgorithm.RS256);
        _es256Issuer = new AttestationTokenIssuer(_es256, "https://bench", TimeProvider.System);
        _rs256Issuer = new AttestationTokenIssuer(_rs256, "https://bench", TimeProvider.System);
    }

    [Benchmark]
    public bool Verify() => _verifier.Verify(_evidence, _expectations).Passed;

    [Benchmark(Baseline = true)]
    public int VerifyAndIssueEs256()
    {
        AttestationResult result = _verifier.Verify(_evidence, _withBaseline);
        return _es256Issuer.Issue(result, _expectations.VmId).Length;
    }

    [Benchmark]
    public int VerifyAndIssueRs256()
    {
        AttestationResult result = _verifier.Verify(_evidence, _withBaseline);
        return _rs256Issuer.Issue(result, _expectations.VmId).Length;
    }

    [Benchmark]
    public int ParseJsonVerifyAndIssueEs256()
    {
        AttestationResult result = _verifier.Verify(EvidenceJson.Parse(_json), _withBaseline);
        return _es256Issuer.Issue(result, _expectations.VmId).Length;
    }

    public void Dispose()
    {
        _es256?.Dispose();
        _rs256?.Dispose();
        GC.SuppressFinalize(this);
    }
}
