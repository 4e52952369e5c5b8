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
/// A connection counts only once the agent has spoken on it (it opens every session with a heartbeat): QEMU's socket
/// accepts a host whatever the guest's end of the port is doing, and after quick host disconnects (a host agent
/// restarting) a guest's virtio port has been seen to stay "no host" while QEMU held the new connection. A silent
/// connection is therefore closed and made again until the deadline, which gives the guest a fresh port-open event each
/// time; a kept connection the agent has not spoken on for longer than its heartbeats allow is replaced the same way.
/// </summary>
internal sealed class AttestationRelay(Guid vmId, string agentSocket, ControlPlaneClient client, TimeSpan deadline, ILogger logger,
    TimeSpan? handshake = null) : IAsyncDisposable
{
    /// <summary>The agent retries its port every 5 s at most (AgentOptions.MaxBackoff, + 20 % jitter); three times that under TCG.</summary>
    public static readonly TimeSpan DefaultHandshake = TimeSpan.FromSeconds(15);

    /// <summary>
    /// An answer takes well under a second (a quote, 0.1–2 s under TCG with a bound key made first); a request unanswered
    /// this long was most likely lost in the guest's kernel (GuestAgentConnection.ResendUnansweredAfter) and goes again.
    /// </summary>
    private static readonly TimeSpan ResendUnansweredAfter = TimeSpan.FromSeconds(20);

    /// <summary>Three of the agent's default 30 s heartbeats.</summary>
    private static readonly TimeSpan SilentTooLong = TimeSpan.FromSeconds(90);

    private readonly TimeSpan _handshake = handshake ?? DefaultHandshake;
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
            GuestAgentConnection agent = await AgentAsync(cancellationToken).ConfigureAwait(false);
            evidence = await RequestEvidenceAsync(agent, nonce, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is GuestChannelException or EvidenceFormatException or IOException or SocketException)
        {
            await DropAgentAsync().ConfigureAwait(false);
            string reason = e switch
            {
                GuestAgentSilentException => e.Message,
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

    /// <summary>The kept connection while the agent is still heard on it; otherwise a new one the agent has spoken on.</summary>
    /// <exception cref="GuestAgentUnresponsiveException">The port cannot be reached, or no connection was spoken on within the deadline.</exception>
    private async Task<GuestAgentConnection> AgentAsync(CancellationToken cancellationToken)
    {
        if (_agent is { Completion.IsCompleted: false, LastHeardFrom: DateTimeOffset heard } kept
            && kept.Time.GetUtcNow() - heard <= SilentTooLong)
            return kept;
        await DropAgentAsync().ConfigureAwait(false);
        long started = Stopwatch.GetTimestamp();
        for (int connections = 1; ; connections++)
        {
            var agent = await GuestAgentConnection.ConnectAsync(agentSocket, cancellationToken).ConfigureAwait(false);
            TimeSpan left = deadline - Stopwatch.GetElapsedTime(started);
            if (await agent.WaitForAgentAsync(left < _handshake ? left : _handshake, cancellationToken).ConfigureAwait(false))
            {
                agent.ResendUnansweredAfter = ResendUnansweredAfter;
                if (connections > 1)
                    Log.AgentSessionOpened(logger, vmId, connections);
                return _agent = agent;
            }

            await agent.DisposeAsync().ConfigureAwait(false);
            if (Stopwatch.GetElapsedTime(started) >= deadline)
                throw new GuestAgentSilentException(
                    $"the agent did not open its session within {deadline.TotalSeconds:0} s ({connections} connection(s) to its port, none spoken on)");
            Log.AgentSilent(logger, vmId, _handshake.TotalSeconds);
        }
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
            if (_agent is null)
                return;
            TokenStoredMessage stored = await _agent.DeliverTokenAsync(token, jwks, deadline, cancellationToken).ConfigureAwait(false);
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
