using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestChannel.Host;
using TrustedLaunch.GuestChannel.Messages;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;

namespace TrustedLaunch.GuestAgent.Tests;

/// <summary>
/// The <c>token</c> message against the agent in-process and a provisioned swtpm: the agent opens a token encrypted to
/// the bound key it made for the attestation (TPM2_RSA_Decrypt under PolicyPCR, AES-256-GCM), verifies its signature
/// and binding, stores it 0600 and prints the console line; once a bound PCR is extended the vTPM refuses to open it.
/// The service's own issuing is in Server.Tests (BoundTokenApiTests) and the end-to-end path in the platform boot test.
/// </summary>
[IntegrationTest]
public sealed class BoundTokenDeliveryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static async Task<(AttestationEvidence Evidence, string KeyId, RSA Recipient)> AttestBoundAsync(GuestAgentConnection host)
    {
        AttestationEvidence evidence = await host.RequestEvidenceAsync(RandomNumberGenerator.GetBytes(32), Timeout, bindToken: true);
        BoundKeyEvidence bound = Assert.IsType<BoundKeyEvidence>(evidence.Tpm.BoundKey);
        TpmtPublic key = TpmtPublic.Parse(bound.Public.AsSpan(2));
        return (evidence, Base64Url.EncodeToString(key.ComputeName()), key.ToRsa());
    }

    /// <summary>A signed token shaped as the service's (ES256, kid, exp, cnf.jwk.kid), encrypted as the service does.</summary>
    private static (string Jws, string Jwe) Token(TokenSigningKey signer, string boundKeyId, RSA recipient, DateTimeOffset expires, string? cnfKid = null)
    {
        string header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($$"""{"alg":"ES256","typ":"JWT","kid":"{{signer.KeyId}}"}"""));
        string payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            $$"""{"iss":"https://tl.test","exp":{{expires.ToUnixTimeSeconds()}},"cnf":{"jwk":{"kty":"RSA","kid":"{{cnfKid ?? boundKeyId}}" """ + "}}}"));
        string input = header + "." + payload;
        string jws = input + "." + Base64Url.EncodeToString(signer.Sign(Encoding.ASCII.GetBytes(input)));
        return (jws, BoundTokenJwe.Encrypt(jws, recipient, boundKeyId));
    }

    [Fact]
    public async Task Token_ForTheBoundKey_OpenedVerifiedStored0600_ConsoleLineWithoutTheToken()
    {
        using var tpm = ProvisionedSwtpm.Start(GuestRoot.VmId, TpmAlgId.Sha1, TpmAlgId.Sha256);
        await using var harness = AgentHarness.Start(tpm.Tcti);
        await using GuestAgentConnection host = await harness.AcceptAsync();
        using var signer = TokenSigningKey.Create();
        (_, string kid, RSA recipient) = await AttestBoundAsync(host);
        using (recipient)
        {
            var expires = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddHours(8).ToUnixTimeSeconds());
            (string jws, string jwe) = Token(signer, kid, recipient, expires);

            TokenStoredMessage stored = await host.DeliverTokenAsync(jwe, Encoding.UTF8.GetString(signer.ToJwks()), Timeout);

            Assert.Equal((signer.KeyId, expires, harness.TokenFile), (stored.KeyId, stored.Expires, stored.Path));
            Assert.Equal(jws, await File.ReadAllTextAsync(harness.TokenFile));
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(harness.TokenFile));
            string line = Assert.Single(harness.ConsoleLines);
            Assert.Equal($"TL-GUEST: token={signer.KeyId} exp={expires.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} path={harness.TokenFile}", line);
            Assert.DoesNotContain(harness.Log.Concat(harness.ConsoleLines), l => l.Contains(jws.Split('.')[2], StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Token_AfterABoundPcrIsExtended_VtpmRefusesWithPolicyFail_NothingStored()
    {
        using var tpm = ProvisionedSwtpm.Start(GuestRoot.VmId, TpmAlgId.Sha1, TpmAlgId.Sha256);
        await using var harness = AgentHarness.Start(tpm.Tcti);
        await using GuestAgentConnection host = await harness.AcceptAsync();
        using var signer = TokenSigningKey.Create();
        (_, string kid, RSA recipient) = await AttestBoundAsync(host);
        using (recipient)
        using (TpmClient client = tpm.Connect())
        {
            // PCR 9 (the kernel's and initrd's measurements) is in the key's PolicyPCR selection.
            client.PcrExtend(9, [new TpmtHa(TpmAlgId.Sha256, SHA256.HashData("a different initrd"u8))]);
            (_, string jwe) = Token(signer, kid, recipient, DateTimeOffset.UtcNow.AddHours(8));

            var refused = await Assert.ThrowsAsync<GuestAgentErrorException>(() => host.DeliverTokenAsync(jwe, Encoding.UTF8.GetString(signer.ToJwks()), Timeout));

            Assert.Equal(GuestErrorCodes.TokenRejected, refused.Code);
            Assert.Contains("TPM_RC_POLICY_FAIL", refused.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(harness.TokenFile));
            Assert.Empty(harness.ConsoleLines);
        }
    }

    [Fact]
    public async Task Token_WrongSignerForeignKeyOrMisboundCnf_RejectedNamingWhy()
    {
        using var tpm = ProvisionedSwtpm.Start(GuestRoot.VmId, TpmAlgId.Sha256);
        await using var harness = AgentHarness.Start(tpm.Tcti);
        await using GuestAgentConnection host = await harness.AcceptAsync();
        using var signer = TokenSigningKey.Create();
        using var impostor = TokenSigningKey.Create();
        (_, string kid, RSA recipient) = await AttestBoundAsync(host);
        using (recipient)
        using (var foreign = RSA.Create(2048))
        {
            string jwks = Encoding.UTF8.GetString(signer.ToJwks());
            DateTimeOffset expires = DateTimeOffset.UtcNow.AddHours(8);
            async Task<string> RejectedAsync(string jwe, string keys) =>
                (await Assert.ThrowsAsync<GuestAgentErrorException>(() => host.DeliverTokenAsync(jwe, keys, Timeout))).Message;

            Assert.Contains("no signing key", await RejectedAsync(Token(impostor, kid, recipient, expires).Jwe, jwks), StringComparison.Ordinal);
            Assert.Contains("did not make", await RejectedAsync(Token(signer, "bm90LW91cnM", foreign, expires).Jwe, jwks), StringComparison.Ordinal);
            Assert.Contains("cnf names key", await RejectedAsync(Token(signer, kid, recipient, expires, cnfKid: "other").Jwe, jwks), StringComparison.Ordinal);
            Assert.Contains("expired", await RejectedAsync(Token(signer, kid, recipient, DateTimeOffset.UtcNow.AddHours(-1)).Jwe, jwks), StringComparison.Ordinal);
            Assert.False(File.Exists(harness.TokenFile));
        }
    }
}
