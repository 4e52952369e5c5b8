using System.Security.Cryptography;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Attestation.Tests.Verification;

[Collection(GenuineEvidenceGroup.Name)]
[IntegrationTest]
public sealed class AttestationVerifierTests(GenuineEvidenceFactory factory)
{
    internal const string SecureBootCapture = "ovmf4m-ms-sb-crb";
    internal const string ChangedCmdlineCapture = "ovmf4m-ms-sb-crb-cmdline2";
    internal const string Sha256OnlyCapture = "ovmf4m-ms-sb-crb-sha256only";

    private static byte[] Nonce() => RandomNumberGenerator.GetBytes(32);

    private AttestationResult Verify(byte[] log, Func<AttestationEvidence, AttestationEvidence>? edit = null)
    {
        byte[] nonce = Nonce();
        AttestationEvidence evidence = factory.Attest(log, nonce);
        return Verifiers.Cached.Verify(edit is null ? evidence : edit(evidence), factory.Expect(nonce));
    }

    private static void AssertFailure(AttestationResult result, AttestationFailureReason reason, string component)
    {
        Assert.False(result.Passed, "expected a failure, got a pass");
        Assert.NotNull(result.Failure);
        Assert.Equal(reason, result.Failure.Reason);
        Assert.Equal(component, result.Failure.Component);
    }

    [Fact]
    public void Verify_GenuineSecureBootBoot_PassesWithAppraisedChain()
    {
        AttestationResult result = Verify(GenuineEvidenceFactory.CaptureLog(SecureBootCapture));

        Assert.True(result.Passed, result.Failure?.ToString());
        AttestedBootState boot = result.BootState!;
        Assert.Equal(factory.VmId, result.VmId);
        Assert.True(boot.SecureBootEnabled);
        Assert.True(boot.DefaultSecureBootKeys);
        Assert.True(boot.DbValidated);
        Assert.True(boot.DbxValidated);
        Assert.False(boot.KernelDebugEnabled);
        Assert.Empty(boot.Anomalies);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14], boot.AttestedPcrs);
        Assert.Equal(["sha1", "sha256", "sha384", "sha512"], boot.Pcrs.Keys.Order(StringComparer.Ordinal));
        // shim (as the removable-media BOOTX64.EFI) admitted by Microsoft's UEFI CA, grub and the kernel by Debian's CA via shim.
        Assert.Equal(["BOOTX64.EFI", "grubx64.efi", "kernel", "kernel"], boot.BootChain.Select(c => c.Name));
        Assert.Equal("Microsoft Corporation UEFI CA 2011", boot.BootChain[0].AuthorityName);
        Assert.All(boot.BootChain.Skip(1), c => Assert.Equal("Debian Secure Boot CA", c.AuthorityName));
        Assert.All(boot.BootChain, c => Assert.Equal(("sha256", 64), (c.Bank, c.Digest.Length)));
        Assert.Contains("console=ttyS0 quiet panic=-1", boot.KernelCommandLine, StringComparison.Ordinal);
        Assert.Equal("minimum", result.PolicyName);
        Assert.Equal(BaselineVerdict.NotEvaluated, result.EarlyBoot);
        Assert.Equal("ttyprintk", Assert.Single(result.Findings).Module);
    }

    [Fact]
    public void Verify_Sha256OnlyLog_PassesInThatBank()
    {
        AttestationResult result = Verify(GenuineEvidenceFactory.CaptureLog(Sha256OnlyCapture));
        Assert.True(result.Passed, result.Failure?.ToString());
        Assert.Equal(["sha256"], result.BootState!.Pcrs.Keys);
    }

    [Fact]
    public void Verify_AfterJsonRoundTrip_StillPasses()
    {
        byte[] nonce = Nonce();
        AttestationEvidence evidence = factory.Attest(GenuineEvidenceFactory.CaptureLog(SecureBootCapture), nonce);
        AttestationEvidence parsed = EvidenceJson.Parse(EvidenceJson.Serialize(evidence));
        Assert.True(Verifiers.Cached.Verify(parsed, factory.Expect(nonce)).Passed);
    }

    [Fact]
    public void Verify_WrongNonce_QuoteInvalidNonce()
    {
        AttestationEvidence evidence = factory.Attest(GenuineEvidenceFactory.CaptureLog(SecureBootCapture), Nonce());
        AttestationResult result = Verifiers.Cached.Verify(evidence, factory.Expect(Nonce()));
        AssertFailure(result, AttestationFailureReason.QuoteInvalid, "quote: nonce");
    }

    [Fact]
    public void Verify_QuoteReplayedFromEarlierChallenge_QuoteInvalidNonce()
    {
        byte[] earlier = Nonce();
        AttestationEvidence old = factory.Attest(GenuineEvidenceFactory.CaptureLog(SecureBootCapture), earlier);
        Assert.True(Verifiers.Cached.Verify(old, factory.Expect(earlier)).Passed);

        byte[] current = Nonce();
        AttestationEvidence replayed = old with { Nonce = current }; // the attacker echoes the new nonce, the quote cannot
        AssertFailure(Verifiers.Cached.Verify(replayed, factory.Expect(current)), AttestationFailureReason.QuoteInvalid, "quote: nonce");
    }

    [Fact]
    public void Verify_PcrValueEdited_QuoteInvalidPcrDigest()
    {
        AttestationResult result = Verify(GenuineEvidenceFactory.CaptureLog(SecureBootCapture), e =>
        {
            PcrBankValues sha256 = e.Tpm.Pcrs.Single(b => b.Bank == "sha256");
            var values = sha256.Values.ToDictionary();
            values[7] = new string('0', 63) + "1";
            return e with { Tpm = e.Tpm with { Pcrs = e.Tpm.Pcrs.Select(b => b == sha256 ? b with { Values = values } : b).ToArray() } };
        });
        AssertFailure(result, AttestationFailureReason.QuoteInvalid, "quote: PCR digest");
    }

    [Fact]
    public void Verify_SignatureBitFlipped_QuoteInvalidSignature()
    {
        AttestationResult result = Verify(GenuineEvidenceFactory.CaptureLog(SecureBootCapture), e =>
        {
            byte[] signature = (byte[])e.Tpm.Signature.Clone();
            signature[^1] ^= 0x80;
            return e with { Tpm = e.Tpm with { Signature = signature } };
        });
        AssertFailure(result, AttestationFailureReason.QuoteInvalid, "quote: signature");
    }

    [Fact]
    public void Verify_EventDigestEdited_EventLogDoesNotReplayNamingPcr()
    {
        byte[] log = GenuineEvidenceFactory.CaptureLog(SecureBootCapture);
        AttestationResult result = Verify(log, e =>
        {
            TcgEvent grub = EventLogEditor.Find(log, ev => ev.PcrIndex == 4 && ev.Type == TcgEventType.EfiBootServicesApplication);
            return e with { TcgLog = EventLogEditor.WithDigestBitFlipped(log, grub.Index) };
        });
        Assert.Equal(AttestationFailureReason.EventLogDoesNotReplay, result.Failure?.Reason);
        Assert.StartsWith("PCR 4 (", result.Failure!.Component, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_NoEventLog_EventLogDoesNotReplay()
    {
        AttestationResult result = Verify(GenuineEvidenceFactory.CaptureLog(SecureBootCapture), e => e with { TcgLog = null });
        AssertFailure(result, AttestationFailureReason.EventLogDoesNotReplay, "event log");
    }

    [Fact]
    public void Verify_LogOfAnotherBoot_EventLogDoesNotReplay()
    {
        AttestationResult result = Verify(GenuineEvidenceFactory.CaptureLog(SecureBootCapture),
            e => e with { TcgLog = GenuineEvidenceFactory.CaptureLog(ChangedCmdlineCapture) });
        Assert.Equal(AttestationFailureReason.EventLogDoesNotReplay, result.Failure?.Reason);
        Assert.StartsWith("PCR 8 (", result.Failure!.Component, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_CertificateForAnotherVm_AkNotFromThisVm()
    {
        byte[] nonce = Nonce();
        byte[] otherVmCertificate = factory.Certify(Guid.NewGuid(), factory.Ca);
        AttestationEvidence evidence = factory.Attest(GenuineEvidenceFactory.CaptureLog(SecureBootCapture), nonce, otherVmCertificate);
        AssertFailure(Verifiers.Cached.Verify(evidence, factory.Expect(nonce)), AttestationFailureReason.AkNotFromThisVm, "AK certificate: VM id");
    }

    [Fact]
    public void Verify_CertificateFromAnotherPlatformCa_AkNotFromThisVm()
    {
        byte[] nonce = Nonce();
        var otherCa = FilePlatformCa.Create(Path.Combine(RepositoryPaths.NewTempDirectory("tl-otherca"), "ca"), "Another Cloud");
        byte[] foreign = factory.Certify(factory.VmId, otherCa);
        AttestationEvidence evidence = factory.Attest(GenuineEvidenceFactory.CaptureLog(SecureBootCapture), nonce, foreign);
        AssertFailure(Verifiers.Cached.Verify(evidence, factory.Expect(nonce)), AttestationFailureReason.AkNotFromThisVm, "AK certificate: chain");
    }

    [Fact]
    public void Verify_QuoteByAnotherVmsAk_AkNotFromThisVm()
    {
        // Another VM's genuine AK certificate (same CA, same VM id even) presented with this TPM's quote.
        using RSA otherKey = RSA.Create(2048);
        using var otherCertificate = TpmCertificateBuilder.IssueAttestationKeyCertificate(otherKey, factory.VmId,
            new TpmDescription("IBM", "swtpm", "20191023", "2.0", 0, 164), factory.Ca.AttestationKeyCa, DateTimeOffset.UtcNow.AddMinutes(-5));
        byte[] nonce = Nonce();
        AttestationEvidence evidence = factory.Attest(GenuineEvidenceFactory.CaptureLog(SecureBootCapture), nonce, otherCertificate.RawData);
        AssertFailure(Verifiers.Cached.Verify(evidence, factory.Expect(nonce)), AttestationFailureReason.AkNotFromThisVm, "AK certificate: public key");
    }

    [Fact]
    public void Verify_EkCertificateInsteadOfAkCertificate_AkNotFromThisVm()
    {
        using RSA key = RSA.Create(2048);
        byte[] nonce = Nonce();
        AttestationEvidence evidence = factory.Attest(GenuineEvidenceFactory.CaptureLog(SecureBootCapture), nonce);
        using var ek = TpmCertificateBuilder.IssueEndorsementKeyCertificate(key, factory.VmId,
            new TpmDescription("IBM", "swtpm", "20191023", "2.0", 0, 164), factory.Ca.EndorsementKeyCa, DateTimeOffset.UtcNow.AddMinutes(-5));
        var expectations = factory.Expect(nonce) with { AkCaCertificates = [factory.Ca.EndorsementKeyCa.Certificate, factory.Ca.RootCertificate] };
        AttestationResult result = Verifiers.Cached.Verify(evidence with { Tpm = evidence.Tpm with { AkCertificate = ek.RawData } }, expectations);
        AssertFailure(result, AttestationFailureReason.AkNotFromThisVm, "AK certificate: chain");
    }

    [Fact]
    public void Verify_AuthorityEventTypeRewrittenToNoAction_FailsReplay()
    {
        byte[] log = GenuineEvidenceFactory.CaptureLog(SecureBootCapture);
        TcgEvent authority = EventLogEditor.Find(log, ev => ev.Type == TcgEventType.EfiVariableAuthority);
        AttestationResult result = Verify(log, e => e with { TcgLog = EventLogEditor.WithEventType(log, authority.Index, TcgEventType.NoAction) });
        Assert.Equal(AttestationFailureReason.EventLogDoesNotReplay, result.Failure?.Reason);
        Assert.StartsWith("PCR 7 (", result.Failure!.Component, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_SeparatorRewrittenToAction_FailsAppraisalNeverPasses()
    {
        byte[] log = GenuineEvidenceFactory.CaptureLog(SecureBootCapture);
        TcgEvent separator = EventLogEditor.Find(log, ev => ev.PcrIndex == 7 && ev.Type == TcgEventType.Separator);
        AttestationResult result = Verify(log, e => e with { TcgLog = EventLogEditor.WithEventType(log, separator.Index, TcgEventType.Action) });
        AssertFailure(result, AttestationFailureReason.PolicyDeviation, "PCR 7");
        Assert.Contains("EV_SEPARATOR", result.Failure!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TcgEventType.EfiVariableDriverConfig, TcgEventType.EfiVariableBoot, "driver-config to boot variable")]
    [InlineData(TcgEventType.EfiBootServicesApplication, TcgEventType.EfiAction, "boot application to action")]
    [InlineData(TcgEventType.Ipl, TcgEventType.EventTag, "grub command to event tag")]
    public void Verify_EventTypeRewritten_NeverADifferentPassingVerdict(TcgEventType from, TcgEventType to, string label)
    {
        byte[] log = GenuineEvidenceFactory.CaptureLog(SecureBootCapture);
        byte[] nonce = Nonce();
        AttestationResult genuine = Verifiers.Cached.Verify(factory.Attest(log, nonce), factory.Expect(nonce));
        TcgEvent target = EventLogEditor.Find(log, ev => ev.Type == from && ev.PcrIndex is 4 or 7 or 8);
        AttestationResult result = Verify(log, e => e with { TcgLog = EventLogEditor.WithEventType(log, target.Index, to) });
        if (result.Passed)
        {
            // Unaffected is allowed; a different passing appraisal is not.
            Assert.Equivalent(genuine.BootState, result.BootState, strict: true);
        }
        else
        {
            Assert.True(result.Failure!.Reason is AttestationFailureReason.PolicyDeviation or AttestationFailureReason.EventLogDoesNotReplay, label);
        }
    }

    [Fact]
    public void Verify_EventDataEditedDigestKept_NotInterpreted()
    {
        byte[] log = GenuineEvidenceFactory.CaptureLog(SecureBootCapture);
        TcgEvent cmdline = EventLogEditor.Find(log, ev => ev.PcrIndex == 8 && ev.Type == TcgEventType.Ipl &&
            System.Text.Encoding.ASCII.GetString(ev.Data.Span).StartsWith("kernel_cmdline", StringComparison.Ordinal));
        byte[] edited = (byte[])log.Clone();
        int dataOffset = cmdline.Offset + cmdline.Size - cmdline.Data.Length;
        int quiet = System.Text.Encoding.ASCII.GetString(cmdline.Data.Span).IndexOf("quiet", StringComparison.Ordinal);
        "debug"u8.CopyTo(edited.AsSpan(dataOffset + quiet));
        AttestationResult result = Verify(log, e => e with { TcgLog = edited });
        Assert.DoesNotContain("debug", result.BootState?.KernelCommandLine ?? "", StringComparison.Ordinal);
        Assert.False(result.Passed);
        Assert.Equal(AttestationFailureReason.PolicyDeviation, result.Failure!.Reason);
        Assert.Equal("PCR 8", result.Failure.Component);
    }

    [Fact]
    public void Verify_CachedAkCertificate_StillChecksVmIdAndValidity()
    {
        byte[] nonce = Nonce();
        AttestationEvidence evidence = factory.Attest(GenuineEvidenceFactory.CaptureLog(SecureBootCapture), nonce);
        Assert.True(Verifiers.Cached.Verify(evidence, factory.Expect(nonce)).Passed); // now cached

        AssertFailure(Verifiers.Cached.Verify(evidence, factory.Expect(nonce) with { VmId = Guid.NewGuid() }),
            AttestationFailureReason.AkNotFromThisVm, "AK certificate: VM id");
        AssertFailure(Verifiers.Cached.Verify(evidence, factory.Expect(nonce) with { VerificationTime = DateTimeOffset.UtcNow.AddYears(30) }),
            AttestationFailureReason.AkNotFromThisVm, "AK certificate: chain");
        AssertFailure(Verifiers.Cached.Verify(evidence, factory.Expect(nonce) with { VerificationTime = DateTimeOffset.UtcNow.AddDays(-1) }),
            AttestationFailureReason.AkNotFromThisVm, "AK certificate: chain");
    }

    [Theory]
    [InlineData("akPublic")]
    [InlineData("quote")]
    [InlineData("signature")]
    [InlineData("tcgLog")]
    public void Verify_TruncatedTpmStructure_EvidenceMalformed(string field)
    {
        AttestationResult result = Verify(GenuineEvidenceFactory.CaptureLog(SecureBootCapture), e => field switch
        {
            "akPublic" => e with { Tpm = e.Tpm with { AkPublic = [0x00, 0x05, 0x00, 0x01, 0x00, 0x0b, 0x00] } },
            "quote" => e with { Tpm = e.Tpm with { Quote = e.Tpm.Quote[..20] } },
            "signature" => e with { Tpm = e.Tpm with { Signature = e.Tpm.Signature[..9] } },
            _ => e with { TcgLog = e.TcgLog![..1000] },
        });
        Assert.Equal(AttestationFailureReason.EvidenceMalformed, result.Failure?.Reason);
        Assert.Contains(field, result.Failure!.Component, StringComparison.Ordinal);
    }
}
