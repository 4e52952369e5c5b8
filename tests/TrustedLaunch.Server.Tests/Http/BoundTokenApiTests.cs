using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Swtpm;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;

namespace TrustedLaunch.Server.Tests.Http;

/// <summary>
/// Tokens bound to the VM's vTPM through the HTTP API: evidence carrying a certified PolicyPCR key gets its token as a
/// JWE only that swtpm, in that PCR state, opens; a copy of the evidence gets a token no other TPM can open and cannot
/// be stripped of its key; a key the verifier refuses gets no token at all, while the pass is still recorded.
/// </summary>
[Collection(ServerEvidenceGroup.Name)]
[IntegrationTest]
public sealed class BoundTokenApiTests(GenuineEvidenceFactory factory) : RegisteredVmServiceTests(factory)
{
    private static byte[] Log => GenuineEvidenceFactory.CaptureLog(AttestationApiTests.SecureBootCapture);

    private async Task<(AttestationEvidence Evidence, PcrBoundKey Key)> ChallengeBoundAsync(Func<TpmtPublic, TpmtPublic>? editTemplate = null)
    {
        byte[] nonce = await Service.ChallengeAsync(VmId);
        return Factory.AttestBound(Log, nonce, editTemplate);
    }

    private async Task<ValidatedAttestationToken> ValidateAsRelyingPartyAsync(string jws)
    {
        JsonElement metadata = await Service.GetJsonAsync("/.well-known/openid-configuration");
        byte[] jwks = await Service.Client.GetByteArrayAsync(new Uri(metadata.GetProperty("jwks_uri").GetString()!));
        using TokenKeySet keys = TokenKeySet.Parse(jwks);
        return new AttestationTokenValidator(keys, Service.Clock)
            .Validate(jws, new TokenExpectations { Issuer = metadata.GetProperty("issuer").GetString()!, VmId = VmId });
    }

    [Fact]
    public async Task Attest_BoundKey_TokenIsJweTheVtpmOpensAndTheRelyingPartyValidates()
    {
        (AttestationEvidence evidence, PcrBoundKey key) = await ChallengeBoundAsync();
        (HttpStatusCode status, JsonElement pass, _) = await Service.AttestAsync(VmId, EvidenceJson.Serialize(evidence));
        Assert.True(status == HttpStatusCode.OK, pass.ToString());
        Assert.Equal("RSA-OAEP-256+A256GCM", pass.GetProperty("tokenEncryption").GetString());
        string jwe = pass.GetProperty("token").GetString()!;
        Assert.True(BoundTokenJwe.IsJwe(jwe));
        AttestationTokenException unopened = await Assert.ThrowsAsync<AttestationTokenException>(() => ValidateAsRelyingPartyAsync(jwe));
        Assert.Equal(AttestationTokenError.Malformed, unopened.Error);

        string jws = Factory.DecryptBound(key, jwe);
        ValidatedAttestationToken valid = await ValidateAsRelyingPartyAsync(jws);
        Assert.Equal(VmId, valid.VmId);
        Assert.Equal(pass.GetProperty("claims").GetProperty("jti").GetString(), valid.Claims.GetProperty("jti").GetString());

        // RFC 7800 cnf: the key the token was encrypted to, as a JWK whose modulus is the vTPM key's own.
        JsonElement jwk = valid.Claims.GetProperty("cnf").GetProperty("jwk");
        Assert.Equal("RSA", jwk.GetProperty("kty").GetString());
        Assert.Equal("RSA-OAEP-256", jwk.GetProperty("alg").GetString());
        using (System.Security.Cryptography.RSA vtpmKey = TrustedLaunch.Tpm.Protocol.TpmtPublic.ParseEither(evidence.Tpm.BoundKey!.Public).ToRsa())
            Assert.Equal(vtpmKey.ExportParameters(false).Modulus, System.Buffers.Text.Base64Url.DecodeFromChars(jwk.GetProperty("n").GetString()));
        using JsonDocument header = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(jwe.Split('.')[0]));
        Assert.Equal(header.RootElement.GetProperty("kid").GetString(), jwk.GetProperty("kid").GetString());
    }

    [Fact]
    public async Task Attest_UnboundEvidence_StillGetsPlainJws()
    {
        (HttpStatusCode status, JsonElement pass, _) = await Service.AttestAsync(VmId, (await Service.ChallengeAndQuoteAsync(Factory, AttestationApiTests.SecureBootCapture)).Body);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(pass.TryGetProperty("tokenEncryption", out _));
        Assert.False(pass.GetProperty("claims").TryGetProperty("cnf", out _));
        Assert.Equal(VmId, (await ValidateAsRelyingPartyAsync(pass.GetProperty("token").GetString()!)).VmId);
    }

    [Fact]
    public async Task Attest_CopyReplayedFromElsewhere_TokenNobodyElseCanRead()
    {
        // A copy stripped of its key, to get a plain token: the quote commits to the key's Name, so the quote fails.
        (AttestationEvidence first, _) = await ChallengeBoundAsync();
        (HttpStatusCode stripped, JsonElement problem, _) = await Service.AttestAsync(VmId,
            EvidenceJson.Serialize(first with { Tpm = first.Tpm with { BoundKey = null } }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, stripped);
        Assert.Equal("QuoteInvalid", problem.GetProperty("reason").GetString());
        Assert.Equal("quote: nonce", problem.GetProperty("component").GetString());

        // The copy as it is, posted by someone else before the VM: they get a JWE for the VM's key.
        (AttestationEvidence evidence, PcrBoundKey key) = await ChallengeBoundAsync();
        byte[] copy = EvidenceJson.Serialize(evidence);
        (HttpStatusCode status, JsonElement pass, _) = await Service.AttestAsync(VmId, copy);
        Assert.Equal(HttpStatusCode.OK, status);
        string jwe = pass.GetProperty("token").GetString()!;

        // Another TPM, given the key's public template, makes a different key: it cannot even load the VM's.
        using (SwtpmProcess elsewhere = SwtpmProcess.Start())
        using (var other = new TpmClient(new SwtpmSocketTransport(elsewhere.DataEndPoint, keepConnection: true)))
        {
            TpmResponseException notHere = Assert.Throws<TpmResponseException>(() => key.Load(other));
            Assert.Contains("not the TPM", notHere.Message, StringComparison.Ordinal);
        }

        // No software key opens it either; the VM's vTPM in its attested state does.
        using (RSA guess = RSA.Create(2048))
        {
            Assert.ThrowsAny<CryptographicException>(() => BoundTokenJwe.Decrypt(jwe, encrypted => guess.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA256)));
        }

        Assert.Equal(VmId, (await ValidateAsRelyingPartyAsync(Factory.DecryptBound(key, jwe))).VmId);
        // The VM's own submission of the same evidence is now a replay.
        Assert.Equal(HttpStatusCode.Conflict, (await Service.AttestAsync(VmId, copy)).Status);
    }

    [Fact]
    public async Task Attest_BoundKeyRefused_PassRecordedButNoToken()
    {
        (AttestationEvidence evidence, _) = await ChallengeBoundAsync(t => t with { ObjectAttributes = t.ObjectAttributes | TpmaObject.UserWithAuth });
        (HttpStatusCode status, JsonElement problem, string? type) = await Service.AttestAsync(VmId, EvidenceJson.Serialize(evidence));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("application/problem+json", type);
        Assert.Equal("pass", problem.GetProperty("verdict").GetString());
        Assert.Equal("BoundKeyRefused", problem.GetProperty("reason").GetString());
        Assert.Equal(nameof(BoundKeyFailureReason.KeyAttributesRejected), problem.GetProperty("boundKeyReason").GetString());
        Assert.Equal("bound key: attributes", problem.GetProperty("component").GetString());
        Assert.False(problem.TryGetProperty("token", out _));

        JsonElement latest = await Service.GetJsonAsync($"/v1/vms/{VmId}/attestations/latest");
        Assert.Equal("pass", latest.GetProperty("verdict").GetString());
        Assert.Equal("BoundKeyRefused", latest.GetProperty("reason").GetString());
        Assert.False(latest.TryGetProperty("tokenId", out _));
    }
}
