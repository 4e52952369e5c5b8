using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestChannel;
using TrustedLaunch.GuestChannel.Host;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.Cli.Commands.Quickstart;

/// <summary>The attestation step as quickstart shows it: the verifier's result, the token and its claims.</summary>
internal sealed record QuickstartAttestationReport
{
    public required bool Passed { get; init; }
    public string? Failure { get; init; }
    public string? NonceHex { get; init; }
    public AttestationResult? Result { get; init; }
    public string? Token { get; init; }
    public JsonElement? TokenClaims { get; init; }
    public string? TokenIssuer { get; init; }
    public double Seconds { get; init; }
}

/// <summary>
/// Challenges the VM's guest agent over its virtio-serial port with a fresh nonce and verifies the evidence with the
/// platform AK CA (the AK certificate must name this VM), then issues a token. The token key is ephemeral: quickstart
/// shows what a relying party receives; <c>tl server</c> is the long-lived issuer with its JWKS.
/// </summary>
internal static class QuickstartAttestation
{
    public const string Issuer = "urn:trustedlaunch:quickstart";

    public static async Task<QuickstartAttestationReport> RunAsync(string agentSocket, Guid vmId, FilePlatformCa pki, TimeSpan timeout,
        Action<string> progress, CancellationToken cancellationToken)
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        DateTime started = DateTime.UtcNow;
        double Elapsed() => (DateTime.UtcNow - started).TotalSeconds;
        AttestationEvidence evidence;
        try
        {
            progress($"attestation: challenging the guest agent (nonce {Convert.ToHexStringLower(nonce)[..16]}…)");
            await using GuestAgentConnection agent = await GuestAgentConnection.ConnectAsync(agentSocket, cancellationToken).ConfigureAwait(false);
            evidence = await agent.RequestEvidenceAsync(nonce, timeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is GuestChannelException or EvidenceFormatException or IOException)
        {
            string reason = e is GuestAgentUnresponsiveException ? nameof(AttestationFailureReason.AgentUnresponsive) : nameof(AttestationFailureReason.EvidenceMalformed);
            return new QuickstartAttestationReport { Passed = false, Failure = $"{reason}: {e.Message}", NonceHex = Convert.ToHexStringLower(nonce), Seconds = Elapsed() };
        }

        progress("attestation: verifying the quote, the AK certificate chain and the event log replay");
        var anchors = new X509Certificate2Collection { pki.RootCertificate, pki.AttestationKeyCa.Certificate };
        AttestationResult result = new AttestationVerifier(TimeProvider.System).Verify(evidence, new AttestationExpectations
        {
            VmId = vmId,
            Nonce = nonce,
            AkCaCertificates = anchors,
        });
        if (!result.Passed)
        {
            return new QuickstartAttestationReport
            {
                Passed = false, Failure = result.Failure?.ToString(), NonceHex = Convert.ToHexStringLower(nonce), Result = result, Seconds = Elapsed(),
            };
        }

        using TokenSigningKey key = TokenSigningKey.Create(TokenAlgorithm.ES256);
        string token = new AttestationTokenIssuer(key, Issuer, TimeProvider.System).Issue(result, vmId);
        return new QuickstartAttestationReport
        {
            Passed = true,
            NonceHex = Convert.ToHexStringLower(nonce),
            Result = result,
            Token = token,
            TokenClaims = DecodeClaims(token),
            TokenIssuer = $"{Issuer} (ephemeral ES256 key {key.KeyId})",
            Seconds = Elapsed(),
        };
    }

    /// <summary>The JWS payload (RFC 7515 §7.1: the second base64url segment) as JSON.</summary>
    private static JsonElement DecodeClaims(string token)
    {
        string payload = token.Split('.')[1];
        return JsonDocument.Parse(Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(payload))).RootElement.Clone();
    }
}
