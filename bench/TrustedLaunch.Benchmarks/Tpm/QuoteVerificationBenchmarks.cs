using System.Globalization;
using BenchmarkDotNet.Attributes;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Benchmarks.Tpm;

/// <summary>
/// In-process quote verification on a real GCE vTPM quote (RSA-2048 RSASSA, 24 PCRs): parse + signature + magic +
/// nonce + PCR digest, and the parse alone.
/// </summary>
[MemoryDiagnoser]
public class QuoteVerificationBenchmarks
{
    private TpmtPublic _ak = null!;
    private byte[] _attest = null!;
    private byte[] _signature = null!;
    private byte[] _nonce = null!;
    private Dictionary<(TpmAlgId Hash, int Index), byte[]> _pcrs = null!;

    [GlobalSetup]
    public void Setup()
    {
        string dir = Path.Combine(FindCorpus(), "public", "go-tpm-tools-gce-cos-85-nonce9009");
        _ak = TpmtPublic.Parse(File.ReadAllBytes(Path.Combine(dir, "ak.pub")));
        _attest = File.ReadAllBytes(Path.Combine(dir, "quote_sha256.bin"));
        _signature = File.ReadAllBytes(Path.Combine(dir, "quote_sha256.sig"));
        _nonce = File.ReadAllBytes(Path.Combine(dir, "nonce.bin"));
        _pcrs = [];
        foreach (string line in File.ReadAllLines(Path.Combine(dir, "pcrs.txt")))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 3 && TpmHashAlgorithm.TryParseBankName(f[0], out var bank))
                _pcrs[(bank, int.Parse(f[1], CultureInfo.InvariantCulture))] = Convert.FromHexString(f[2]);
        }

        if (!QuoteVerifier.Verify(_ak, _attest, _signature, _nonce, true, _pcrs).IsValid)
            throw new InvalidOperationException("The benchmark quote does not verify.");
    }

    [Benchmark]
    public bool VerifyQuote() => QuoteVerifier.Verify(_ak, _attest, _signature, _nonce, true, _pcrs).IsValid;

    [Benchmark]
    public TpmsAttest ParseAttest() => TpmsAttest.Parse(_attest);

    /// <summary>The AK's TPMT_PUBLIC → an OpenSSL RSA key: the part of <see cref="VerifyQuote"/> a key cache would save.</summary>
    [Benchmark]
    public int ImportAkKey()
    {
        using System.Security.Cryptography.RSA rsa = _ak.ToRsa();
        return rsa.KeySize;
    }

    private static string FindCorpus()
    {
        string? env = Environment.GetEnvironmentVariable("TL_CORPUS");
        if (!string.IsNullOrEmpty(env))
            return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "corpus");
            if (File.Exists(Path.Combine(dir.FullName, "TrustedLaunch.slnx")) && Directory.Exists(candidate))
                return candidate;
        }

        throw new DirectoryNotFoundException("Corpus not found; set TL_CORPUS.");
    }
}
