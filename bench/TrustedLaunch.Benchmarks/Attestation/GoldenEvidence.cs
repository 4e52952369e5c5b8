using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Benchmarks.Attestation;

/// <summary>
/// The genuine Secure Boot evidence bundle of the CLI tests' golden folder (tests/TrustedLaunch.Cli.Tests/Attest/Golden,
/// README there) with the expectations it verifies against, and the baseline learned from it.
/// </summary>
internal sealed class GoldenEvidence
{
    private static readonly byte[] Nonce = Convert.FromHexString("7f3a9c1e5b2d4f6081a3c5e7092b4d6f8193a5c7e9fb1d3f5577991133557799");

    private GoldenEvidence(byte[] json, AttestationEvidence evidence, AttestationExpectations expectations, AttestationBaseline baseline)
    {
        Json = json;
        Evidence = evidence;
        Expectations = expectations;
        Baseline = baseline;
    }

    public byte[] Json { get; }

    public AttestationEvidence Evidence { get; }

    /// <summary>Nonce, VM id and the platform CA; no baseline.</summary>
    public AttestationExpectations Expectations { get; }

    public AttestationBaseline Baseline { get; }

    /// <summary>Loads the bundle and checks that <paramref name="verifier"/> passes it (a benchmark of a failing path would mislead).</summary>
    public static GoldenEvidence Load(AttestationVerifier verifier)
    {
        string golden = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "TrustedLaunch.Cli.Tests", "Attest", "Golden");
        byte[] json = File.ReadAllBytes(Path.Combine(golden, "evidence-sb.json"));
        AttestationEvidence evidence = EvidenceJson.Parse(json);
        var expectations = new AttestationExpectations
        {
            VmId = Guid.Parse(File.ReadAllText(Path.Combine(golden, "vm-id.txt")).Trim()),
            Nonce = Nonce,
            AkCaCertificates =
            [
                X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(golden, "ca", "vtpm-ak-ca.crt"))),
                X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(golden, "ca", "root-ca.crt"))),
            ],
        };
        AttestationResult first = verifier.Verify(evidence, expectations);
        if (!first.Passed)
            throw new InvalidOperationException($"golden evidence does not verify: {first.Failure}");
        return new GoldenEvidence(json, evidence, expectations, AttestationBaseline.Learn(first));
    }
}
