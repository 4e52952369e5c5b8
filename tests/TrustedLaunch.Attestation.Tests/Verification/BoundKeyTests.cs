using System.Security.Cryptography;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;

namespace TrustedLaunch.Attestation.Tests.Verification;

/// <summary>
/// Tokens bound to the vTPM, against a real swtpm: the guest's key (PolicyPCR only, certified by the AK) is accepted,
/// a token encrypted to it decrypts in that TPM and state and validates as a relying party's token; every verifier
/// rule refuses its own forgery with its own reason, and a changed PCR makes the TPM itself refuse to decrypt.
/// </summary>
[Collection(GenuineEvidenceGroup.Name)]
[IntegrationTest]
public sealed class BoundKeyTests(GenuineEvidenceFactory factory)
{
    private const string Issuer = "https://attest.trustedlaunch.test";

    private static byte[] Log => GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture);

    private AttestationResult Verify(AttestationEvidence evidence) => Verifiers.Cached.Verify(evidence, factory.Expect(evidence.Nonce));

    private AttestationResult VerifyBound(Func<TpmtPublic, TpmtPublic>? editTemplate = null, Func<AttestationEvidence, AttestationEvidence>? edit = null)
    {
        (AttestationEvidence evidence, _) = factory.AttestBound(Log, RandomNumberGenerator.GetBytes(32), editTemplate);
        return Verify(edit is null ? evidence : edit(evidence));
    }

    private static void AssertRefused(AttestationResult result, BoundKeyFailureReason reason, string component)
    {
        Assert.True(result.Passed, $"the attestation itself should pass: {result.Failure}");
        Assert.Null(result.BoundKey);
        Assert.NotNull(result.BoundKeyFailure);
        Assert.Equal(reason, result.BoundKeyFailure.Reason);
        Assert.Equal(component, result.BoundKeyFailure.Component);
    }

    private static AttestationEvidence WithBoundKey(AttestationEvidence e, Func<BoundKeyEvidence, BoundKeyEvidence> edit) =>
        e with { Tpm = e.Tpm with { BoundKey = edit(e.Tpm.BoundKey!) } };

    [Fact]
    public void BoundKey_Genuine_TokenDecryptsInThisStateOnlyAndValidates()
    {
        (AttestationEvidence evidence, PcrBoundKey key) = factory.AttestBound(Log, RandomNumberGenerator.GetBytes(32));
        AttestationResult result = Verify(evidence);
        Assert.True(result.Passed, result.Failure?.ToString());
        Assert.Null(result.BoundKeyFailure);
        VerifiedBoundKey bound = Assert.IsType<VerifiedBoundKey>(result.BoundKey);
        Assert.Equal(key.Name, bound.Name);

        using var signing = TokenSigningKey.Create(TokenAlgorithm.ES256);
        string jws = new AttestationTokenIssuer(signing, Issuer, TimeProvider.System).Issue(result, factory.VmId);
        using RSA recipient = bound.Public.ToRsa();
        string jwe = BoundTokenJwe.Encrypt(jws, recipient, bound.KeyId);
        Assert.Equal(5, jwe.Split('.').Length);
        Assert.DoesNotContain(jws.Split('.')[1], jwe, StringComparison.Ordinal);

        string decrypted = factory.DecryptBound(key, jwe);
        Assert.Equal(jws, decrypted);
        using TokenKeySet keys = TokenKeySet.Parse(signing.ToJwks());
        ValidatedAttestationToken valid = new AttestationTokenValidator(keys, TimeProvider.System)
            .Validate(decrypted, new TokenExpectations { Issuer = Issuer, VmId = factory.VmId });
        Assert.Equal(factory.VmId, valid.VmId);

        // A later measurement into a PCR of the policy: the same TPM, the same key, and the TPM refuses the policy session.
        factory.Extend(7);
        TpmResponseException refused = Assert.Throws<TpmResponseException>(() => factory.DecryptBound(key, jwe));
        Assert.Equal(TpmCc.RSA_Decrypt, refused.Command);
        Assert.Equal("TPM_RC_POLICY_FAIL", refused.ResponseCode.Name);
    }

    [Fact]
    public void BoundKey_AlteredEnvelope_DoesNotDecrypt()
    {
        (AttestationEvidence evidence, PcrBoundKey key) = factory.AttestBound(Log, RandomNumberGenerator.GetBytes(32));
        VerifiedBoundKey bound = Verify(evidence).BoundKey!;
        using RSA recipient = bound.Public.ToRsa();
        string[] parts = BoundTokenJwe.Encrypt("a.b.c", recipient, bound.KeyId).Split('.');
        parts[3] = (parts[3][0] == 'A' ? "B" : "A") + parts[3][1..];
        Assert.Throws<BoundTokenException>(() => factory.DecryptBound(key, string.Join('.', parts)));
    }

    [Fact]
    public void BoundKey_StrippedFromACopy_QuoteNoLongerMatches()
    {
        AttestationResult result = VerifyBound(edit: e => e with { Tpm = e.Tpm with { BoundKey = null } });
        Assert.False(result.Passed);
        Assert.Equal(AttestationFailureReason.QuoteInvalid, result.Failure!.Reason);
        Assert.Equal("quote: nonce", result.Failure.Component);
    }

    [Fact]
    public void BoundKey_SwappedForAnotherKey_QuoteNoLongerMatches()
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        (AttestationEvidence genuine, _) = factory.AttestBound(Log, nonce);
        (AttestationEvidence other, _) = factory.AttestBound(Log, nonce, t => t with { Unique = [1, 2, 3, 4] });
        AttestationResult result = Verify(WithBoundKey(genuine, _ => other.Tpm.BoundKey!));
        Assert.False(result.Passed);
        Assert.Equal("quote: nonce", result.Failure!.Component);
    }

    [Fact]
    public void BoundKey_CertifyOfAnotherKey_NameMismatch()
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        (AttestationEvidence genuine, _) = factory.AttestBound(Log, nonce);
        (AttestationEvidence other, _) = factory.AttestBound(Log, nonce, t => t with { Unique = [1, 2, 3, 4] });
        AttestationResult result = Verify(WithBoundKey(genuine, b => b with { CertifyInfo = other.Tpm.BoundKey!.CertifyInfo, Signature = other.Tpm.BoundKey.Signature }));
        AssertRefused(result, BoundKeyFailureReason.NameMismatch, "bound key: name");
    }

    [Fact]
    public void BoundKey_CertifyForAnotherNonce_Refused() =>
        AssertRefused(Verify(factory.AttestBound(Log, RandomNumberGenerator.GetBytes(32), certifyNonce: RandomNumberGenerator.GetBytes(32)).Evidence),
            BoundKeyFailureReason.CertifyNonceMismatch, "bound key: certify nonce");

    [Fact]
    public void BoundKey_CertifyByteFlipped_SignatureInvalid() =>
        AssertRefused(VerifyBound(edit: e => WithBoundKey(e, b => b with { CertifyInfo = Flip(b.CertifyInfo, b.CertifyInfo.Length - 3) })),
            BoundKeyFailureReason.CertifySignatureInvalid, "bound key: certify signature");

    [Fact]
    public void BoundKey_QuoteInsteadOfCertify_NotACertify() =>
        AssertRefused(VerifyBound(edit: e => WithBoundKey(e, b => b with { CertifyInfo = e.Tpm.Quote, Signature = e.Tpm.Signature })),
            BoundKeyFailureReason.NotACertify, "bound key: certify type");

    [Fact]
    public void BoundKey_UsableWithPassword_Refused() =>
        AssertRefused(VerifyBound(t => t with { ObjectAttributes = t.ObjectAttributes | TpmaObject.UserWithAuth }),
            BoundKeyFailureReason.KeyAttributesRejected, "bound key: attributes");

    [Fact]
    public void BoundKey_SigningKey_Refused() =>
        AssertRefused(VerifyBound(t => t with { ObjectAttributes = t.ObjectAttributes | TpmaObject.Sign, Scheme = TpmtScheme.Null }),
            BoundKeyFailureReason.KeyAttributesRejected, "bound key: attributes");

    [Fact]
    public void BoundKey_PolicyOverOtherValues_PolicyMismatch() =>
        AssertRefused(VerifyBound(t => t with { AuthPolicy = RandomNumberGenerator.GetBytes(32) }),
            BoundKeyFailureReason.PolicyMismatch, "bound key: policy");

    [Fact]
    public void BoundKey_PolicyLeavesOutAttestedPcrs_Refused() =>
        AssertRefused(VerifyBound(edit: e => WithBoundKey(e, b => b with { PolicyPcrs = [0, 1, 2, 3, 4, 5, 6, 7] })),
            BoundKeyFailureReason.PolicySelectionRejected, "bound key: policy PCRs");

    [Fact]
    public void BoundKey_PolicyOnUnquotedPcr_Refused() =>
        AssertRefused(VerifyBound(edit: e => WithBoundKey(e, b => b with { PolicyPcrs = [.. b.PolicyPcrs, 15] })),
            BoundKeyFailureReason.PolicySelectionRejected, "bound key: policy PCRs");

    [Fact]
    public void BoundKey_PolicyOnSha1Bank_Refused() =>
        AssertRefused(VerifyBound(edit: e => WithBoundKey(e, b => b with { PolicyBank = "sha1" })),
            BoundKeyFailureReason.PolicySelectionRejected, "bound key: policy PCRs");

    [Fact]
    public void BoundKey_NoKey_PlainAttestationUnchanged()
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        AttestationResult result = Verify(factory.Attest(Log, nonce));
        Assert.True(result.Passed, result.Failure?.ToString());
        Assert.Null(result.BoundKey);
        Assert.Null(result.BoundKeyFailure);
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        byte[] copy = (byte[])bytes.Clone();
        copy[at] ^= 0x01;
        return copy;
    }
}
