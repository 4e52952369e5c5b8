using System.Security.Cryptography;
using System.Text;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Attestation.Tests.Verification;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Attestation.Tests.Baselines;

[Collection(GenuineEvidenceGroup.Name)]
[IntegrationTest]
public sealed class ReferencePolicyTests(GenuineEvidenceFactory factory)
{
    private const string DebianPolicy = """
        {
          "name": "debian12-ms",
          "requireSecureBoot": true,
          "requireDefaultSecureBootKeys": true,
          "allowedAuthorities": ["Microsoft Corporation UEFI CA 2011", "Debian Secure Boot CA"],
          "kernelCommandLinePattern": "/vmlinuz console=ttyS0 quiet panic=-1( lockdown=[a-z]+)?"
        }
        """;

    private AttestationResult Verify(string capture, ReferencePolicy policy)
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        return Verifiers.Cached.Verify(factory.Attest(GenuineEvidenceFactory.CaptureLog(capture), nonce), factory.Expect(nonce, policy: policy));
    }

    [Fact]
    public void Evaluate_CompliantBoot_Passes()
    {
        AttestationResult result = Verify(AttestationVerifierTests.SecureBootCapture, ReferencePolicy.FromJson(Encoding.UTF8.GetBytes(DebianPolicy)));
        Assert.True(result.Passed, result.Failure?.ToString());
        Assert.Equal("debian12-ms", result.PolicyName);
    }

    [Fact]
    public void Evaluate_CommandLineOutsidePattern_PolicyDeviationPcr8()
    {
        AttestationResult result = Verify(AttestationVerifierTests.ChangedCmdlineCapture, ReferencePolicy.FromJson(Encoding.UTF8.GetBytes(DebianPolicy)));
        Assert.Equal(AttestationFailureReason.PolicyDeviation, result.Failure!.Reason);
        Assert.Equal("PCR 8", result.Failure.Component);
        Assert.Contains("tl.variant=2", result.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_AuthorityNotAllowed_NamesTheAuthority()
    {
        // The quote proves which authorities PCR 7 holds, not which image each admitted: the authority is what is named.
        var policy = new ReferencePolicy { Name = "ms-only", AllowedAuthorities = ["Microsoft Corporation UEFI CA 2011"] };
        AttestationResult result = Verify(AttestationVerifierTests.SecureBootCapture, policy);
        Assert.Equal(AttestationFailureReason.PolicyDeviation, result.Failure!.Reason);
        Assert.Equal("PCR 7", result.Failure.Component);
        Assert.Contains("authority MokListRT: Debian Secure Boot CA", result.Failure.Message, StringComparison.Ordinal);
        Assert.Single(result.PolicyViolations);
    }

    [Fact]
    public void Evaluate_EveryReplayedAuthorityAllowed_Passes()
    {
        var policy = new ReferencePolicy { Name = "ms-and-debian", AllowedAuthorities = ["Microsoft Corporation UEFI CA 2011", "Debian Secure Boot CA"] };
        AttestationResult result = Verify(AttestationVerifierTests.SecureBootCapture, policy);
        Assert.True(result.Passed, result.Failure?.ToString());
    }

    [Fact]
    public void Evaluate_BootApplicationDigestAllowList_OnlyListedDigestsPass()
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        AttestationResult genuine = Verifiers.Cached.Verify(
            factory.Attest(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture), nonce), factory.Expect(nonce));
        string[] digests = genuine.BootState!.BootChain.Select(c => c.Digest).Distinct().ToArray();
        Assert.True(Verify(AttestationVerifierTests.SecureBootCapture, new ReferencePolicy { Name = "pinned", AllowedBootApplicationDigests = digests }).Passed);

        AttestationResult missingShim = Verify(AttestationVerifierTests.SecureBootCapture, new ReferencePolicy { Name = "pinned", AllowedBootApplicationDigests = digests[1..] });
        Assert.Equal("PCR 4: BOOTX64.EFI", missingShim.Failure!.Component);
    }

    [Fact]
    public void FromJson_RoundTrip_AndBadPattern()
    {
        ReferencePolicy policy = ReferencePolicy.FromJson(Encoding.UTF8.GetBytes(DebianPolicy));
        Assert.Equal(policy.AllowedAuthorities, ReferencePolicy.FromJson(policy.ToJson()).AllowedAuthorities);
        Assert.Throws<FormatException>(() => ReferencePolicy.FromJson("{\"name\":\"x\",\"kernelCommandLinePattern\":\"(\"}"u8));
        Assert.Throws<FormatException>(() => ReferencePolicy.FromJson("{\"requireSecureBoot\":true}"u8));
    }

    [Fact]
    public void FromJson_RuleLeftOut_KeepsItsDeclaredDefault()
    {
        ReferencePolicy policy = ReferencePolicy.FromJson("{\"name\":\"p\",\"allowedAuthorities\":[\"requireSecureBoot\"]}"u8);
        Assert.True(policy.RequireSecureBoot);
        Assert.False(policy.AllowKernelDebug);
        Assert.False(ReferencePolicy.FromJson("{\"name\":\"p\",\"requireSecureBoot\":false}"u8).RequireSecureBoot);
    }

    [Theory]
    [InlineData("{\"name\":\"p\",\"requireSecureBot\":false}", "requireSecureBot")]
    [InlineData("{\"name\":\"p\",\"allowedAuthorities\":[null]}", "allowedAuthorities[0] is null")]
    [InlineData("{\"name\":\"p\",\"allowedBootApplicationDigests\":[\"ab\",null]}", "allowedBootApplicationDigests[1] is null")]
    [InlineData("{\"name\":\"p\",\"kernelCommandLinePattern\":\"(?=quiet).*\"}", "kernelCommandLinePattern")]
    public void FromJson_PolicyThatWouldNotMeanWhatItSays_FormatExceptionNamingIt(string json, string named)
    {
        var e = Assert.Throws<FormatException>(() => ReferencePolicy.FromJson(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }
}
