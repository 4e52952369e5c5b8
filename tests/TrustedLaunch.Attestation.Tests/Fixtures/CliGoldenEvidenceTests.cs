using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Attestation.Tests.Verification;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Attestation.Tests.Fixtures;

/// <summary>
/// The golden evidence the CLI tests feed to <c>tl attest verify</c> (tests/TrustedLaunch.Cli.Tests/Attest/Golden):
/// made by <see cref="GenuineEvidenceFactory"/> when TL_REGENERATE_ATTEST_GOLDEN=1, and always re-verified here so a
/// verifier change that breaks them fails in this project, not only in the CLI's.
/// </summary>
[Collection(GenuineEvidenceGroup.Name)]
[IntegrationTest]
public sealed class CliGoldenEvidenceTests(GenuineEvidenceFactory factory)
{
    public static readonly byte[] SecureBootNonce = Convert.FromHexString("7f3a9c1e5b2d4f6081a3c5e7092b4d6f8193a5c7e9fb1d3f5577991133557799");
    public static readonly byte[] CmdlineNonce = Convert.FromHexString("0123456789abcdef0123456789abcdef");

    private static string GoldenDirectory => Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "TrustedLaunch.Cli.Tests", "Attest", "Golden");

    [Fact]
    public void GoldenEvidence_VerifiesWithTheLibrary()
    {
        if (Environment.GetEnvironmentVariable("TL_REGENERATE_ATTEST_GOLDEN") == "1")
            Regenerate();

        var ca = new X509Certificate2Collection
        {
            X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(GoldenDirectory, "ca", "vtpm-ak-ca.crt"))),
            X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(GoldenDirectory, "ca", "root-ca.crt"))),
        };
        Guid vmId = Guid.Parse(File.ReadAllText(Path.Combine(GoldenDirectory, "vm-id.txt")).Trim());
        AttestationResult sb = Verifiers.Cached.Verify(EvidenceJson.Parse(File.ReadAllBytes(Path.Combine(GoldenDirectory, "evidence-sb.json"))),
            new AttestationExpectations { VmId = vmId, Nonce = SecureBootNonce, AkCaCertificates = ca });
        Assert.True(sb.Passed, sb.Failure?.ToString());
        AttestationResult cmdline = Verifiers.Cached.Verify(EvidenceJson.Parse(File.ReadAllBytes(Path.Combine(GoldenDirectory, "evidence-cmdline2.json"))),
            new AttestationExpectations { VmId = vmId, Nonce = CmdlineNonce, AkCaCertificates = ca, Baseline = AttestationBaseline.Learn(sb) });
        Assert.Equal("PCR 8", cmdline.Failure?.Component);
    }

    private void Regenerate()
    {
        Directory.CreateDirectory(Path.Combine(GoldenDirectory, "ca"));
        File.Copy(Path.Combine(factory.CaDirectory, "root-ca.crt"), Path.Combine(GoldenDirectory, "ca", "root-ca.crt"), overwrite: true);
        File.Copy(Path.Combine(factory.CaDirectory, "vtpm-ak-ca.crt"), Path.Combine(GoldenDirectory, "ca", "vtpm-ak-ca.crt"), overwrite: true);
        File.WriteAllText(Path.Combine(GoldenDirectory, "vm-id.txt"), factory.VmId.ToString() + "\n");
        File.WriteAllBytes(Path.Combine(GoldenDirectory, "evidence-sb.json"),
            EvidenceJson.Serialize(factory.Attest(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture), SecureBootNonce)));
        File.WriteAllBytes(Path.Combine(GoldenDirectory, "evidence-cmdline2.json"),
            EvidenceJson.Serialize(factory.Attest(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.ChangedCmdlineCapture), CmdlineNonce)));
    }
}
