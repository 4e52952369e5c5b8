using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Benchmarks.Tpm;

/// <summary>
/// One PCR extend's hash (<c>H(pcr ‖ digest)</c>: 2 × digest size bytes) per bank, through the product's
/// <see cref="OpenSslTpmDigest"/> (OpenSSL's digest functions called directly) and through the BCL's one-shot
/// <c>HashData</c> (EVP context per call). An event-log replay makes one such call per event per bank.
/// </summary>
public class PcrExtendHashBenchmarks
{
    private readonly byte[] _input = new byte[128];
    private readonly byte[] _digest = new byte[64];

    [Params(TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384, TpmAlgId.Sha512)]
    public TpmAlgId Bank { get; set; }

    private int Length => TpmHashAlgorithm.DigestSize(Bank) * 2;

    [Benchmark(Baseline = true)]
    public int Bcl() => CryptographicOperations.HashData(TpmHashAlgorithm.ToHashAlgorithmName(Bank), _input.AsSpan(0, Length), _digest);

    [Benchmark]
    public int Direct() => OpenSslTpmDigest.Instance.Hash(Bank, _input.AsSpan(0, Length), _digest);
}
