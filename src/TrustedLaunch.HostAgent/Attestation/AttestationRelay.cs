using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestChannel;
using TrustedLaunch.GuestChannel.Host;
using TrustedLaunch.GuestChannel.Messages;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.HostAgent.Telemetry;

namespace TrustedLaunch.HostAgent.Attestation;

/// <summary>
/// One VM's attestations, relayed by its host: a challenge from the attestation service, handed to the guest agent over
/// the VM's virtio-serial port, the evidence it answers posted back (the service verifies and stores the result). No
/// answer within the deadline, a closed channel or an unusable answer is recorded as <c>AgentUnresponsive</c>. The
/// connection to the agent is kept across attestations of one run of the VM and made again when it breaks.
/// Every attestation asks for a token bound to the vTPM (the relay only runs for Trusted Launch VMs with a vTPM): the
/// service's answer is a JWE only that vTPM, in the attested PCR state, can open, so this host handles ciphertext and
/// hands it to the guest with the service's JWK Set (docs/attestation.md, "Bound tokens end to end"). An agent that
/// cannot make a bound key (no SHA-256 bank) is asked again for plain evidence; a token that does not reach the guest
/// leaves the verdict as it is.
/// </summary>
internal sealed class AttestationRelay(Guid vmId, string agentSocket, ControlPlaneClient client, TimeSpan deadline, ILogger logger) : IAsyncDisposable
{
    private GuestAgentConnection? _agent;

    /// <summary>Attests once; returns what happened (<c>pass</c>, the failure reason, or <c>AgentUnresponsive</c>).</summary>
    /// <exception cref="ControlPlaneCallException">The attestation service could not be reached.</exception>
    public async Task<string> AttestAsync(CancellationToken cancellationToken)
    {
        // The span every call below runs in: its trace id reaches the service in each request's traceparent header.
        using Activity? activity = HostAgentTelemetry.StartRelay(vmId);
        var clock = Stopwatch.StartNew();
        string outcome = await RelayAsync(cancellationToken).ConfigureAwait(false);
        HostAgentTelemetry.Relayed(activity, outcome.StartsWith("fail", StringComparison.Ordinal) ? "fail" : outcome, clock.Elapsed);
        return outcome;
    }

    private async Task<string> RelayAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        byte[] nonce = await client.IssueChallengeAsync(vmId, cancellationToken).ConfigureAwait(false);
        AttestationEvidence evidence;
        try
        {
            _agent ??= await GuestAgentConnection.ConnectAsync(agentSocket, cancellationToken).ConfigureAwait(false);
            evidence = await RequestEvidenceAsync(_agent, nonce, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is GuestChannelException or EvidenceFormatException or IOException or SocketException)
        {
            await DropAgentAsync().ConfigureAwait(false);
            string reason = e switch
            {
                GuestAgentUnresponsiveException => $"no answer within {deadline.TotalSeconds:0} s or the channel closed ({e.Message})",
                EvidenceFormatException => $"the agent's evidence is malformed ({e.Message})",
                GuestAgentErrorException => $"the agent answered with an error ({e.Message})",
                _ => $"the agent's port cannot be reached ({e.Message})",
            };
            Log.AgentUnresponsive(logger, vmId, reason);
            await client.ReportAgentUnresponsiveAsync(vmId, $"The guest attestation agent did not answer: {reason}.", cancellationToken).ConfigureAwait(false);
            return "AgentUnresponsive";
        }

        AttestationPostResult result = await client.PostEvidenceAsync(vmId, EvidenceJson.Serialize(evidence), cancellationToken).ConfigureAwait(false);
        string outcome = result.Passed ? "pass" : $"fail ({result.Reason}{(result.Component is null ? "" : ": " + result.Component)})";
        Log.Attested(logger, vmId, outcome, clock.ElapsedMilliseconds);
        if (result.Passed && result.Token is string token && BoundTokenJwe.IsJwe(token))
            await DeliverAsync(token, cancellationToken).ConfigureAwait(false);
        return outcome;
    }

    private async Task<AttestationEvidence> RequestEvidenceAsync(GuestAgentConnection agent, byte[] nonce, CancellationToken cancellationToken)
    {
        try
        {
            return await agent.RequestEvidenceAsync(nonce, deadline, cancellationToken: cancellationToken, bindToken: true).ConfigureAwait(false);
        }
        catch (GuestAgentErrorException e) when (e.Code is GuestErrorCodes.TpmFailure or GuestErrorCodes.UnknownType or GuestErrorCodes.MalformedMessage)
        {
            // The nonce is not spent until evidence is posted, so the same challenge serves the plain request.
            Log.BindingUnavailable(logger, vmId, e.Message);
            return await agent.RequestEvidenceAsync(nonce, deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task DeliverAsync(string token, CancellationToken cancellationToken)
    {
        try
        {
            string jwks = await client.GetTokenKeysAsync(cancellationToken).ConfigureAwait(false);
            TokenStoredMessage stored = await _agent!.DeliverTokenAsync(token, jwks, deadline, cancellationToken).ConfigureAwait(false);
            Log.TokenDelivered(logger, vmId, stored.KeyId, stored.Expires);
        }
        catch (Exception e) when (e is GuestChannelException or ControlPlaneCallException or IOException)
        {
            Log.TokenNotDelivered(logger, vmId, e.Message);
        }
    }

    public async ValueTask DisposeAsync() => await DropAgentAsync().ConfigureAwait(false);

    private async Task DropAgentAsync()
    {
        if (_agent is null)
            return;
        await _agent.DisposeAsync().ConfigureAwait(false);
        _agent = null;
    }
}
