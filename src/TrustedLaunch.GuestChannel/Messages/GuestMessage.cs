using TrustedLaunch.Attestation.Evidence;

namespace TrustedLaunch.GuestChannel.Messages;

/// <summary>
/// One message of the guest channel: a JSON object <c>{ "type": ..., "id": n, ... }</c> in one frame
/// (docs/guest-channel.md, "Messages"). <see cref="Id"/> pairs a reply with its request; unsolicited messages have none.
/// </summary>
public abstract record GuestMessage(long? Id)
{
    /// <summary>The <c>type</c> member: one of <see cref="GuestMessageTypes"/>.</summary>
    public abstract string Type { get; }
}

/// <summary>The <c>type</c> values this protocol version knows.</summary>
public static class GuestMessageTypes
{
    public const string Attest = "attest";
    public const string Ping = "ping";
    public const string Evidence = "evidence";
    public const string Heartbeat = "heartbeat";
    public const string Finding = "finding";
    public const string Error = "error";
    public const string Token = "token";
    public const string TokenStored = "tokenStored";
}

/// <summary>
/// host → guest: quote these PCRs (default 0–9 and 14) with this nonce and send the evidence; with
/// <paramref name="BindToken"/>, include a certified PolicyPCR key so the token comes back encrypted to the vTPM.
/// </summary>
public sealed record AttestRequest(long RequestId, byte[] Nonce, IReadOnlyList<int>? Pcrs = null, bool BindToken = false) : GuestMessage(RequestId)
{
    /// <summary>PCRs 0–9 (firmware, Secure Boot policy, boot loader, kernel and command line) and 14 (shim's MOK state).</summary>
    public static IReadOnlyList<int> DefaultPcrs { get; } = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14];

    public override string Type => GuestMessageTypes.Attest;
}

/// <summary>host → guest: answer with a <see cref="HeartbeatMessage"/> carrying this id.</summary>
public sealed record PingRequest(long RequestId) : GuestMessage(RequestId)
{
    public override string Type => GuestMessageTypes.Ping;
}

/// <summary>guest → host: the evidence for the <see cref="AttestRequest"/> with the same id.</summary>
public sealed record EvidenceMessage(long RequestId, AttestationEvidence Evidence) : GuestMessage(RequestId)
{
    public override string Type => GuestMessageTypes.Evidence;
}

/// <summary>Heartbeat states: <c>ready</c> (TPM reachable, can attest) or <c>notready</c> (it cannot, with the reason in the log).</summary>
public static class HeartbeatStatus
{
    public const string Ready = "ready";
    public const string NotReady = "notready";
}

/// <summary>guest → host: alive (every heartbeat interval, on connect, and as the answer to a ping).</summary>
public sealed record HeartbeatMessage(long? ReplyTo, string Status, long UptimeSeconds, string AgentVersion,
    int ProtocolVersion = HeartbeatMessage.CurrentProtocolVersion) : GuestMessage(ReplyTo)
{
    /// <summary>Bumped only for an incompatible change; additions (new types, new members) keep it.</summary>
    public const int CurrentProtocolVersion = 1;

    public override string Type => GuestMessageTypes.Heartbeat;
}

/// <summary>guest → host: a kernel-log finding as soon as the agent sees it.</summary>
public sealed record FindingMessage(GuestFinding Finding) : GuestMessage((long?)null)
{
    public override string Type => GuestMessageTypes.Finding;
}

/// <summary>
/// host → guest, after a passed attestation whose evidence carried a bound key: the token the service issued, a JWE
/// compact (RFC 7516 §7.1) only that vTPM in the attested PCR state can open, and the service's JWK Set
/// (<paramref name="Jwks"/>, the raw JSON object of <c>/certs</c>) to check the signed token inside against.
/// </summary>
public sealed record TokenMessage(long RequestId, string Token, string? Jwks = null) : GuestMessage(RequestId)
{
    /// <summary>A bound token is a few kilobytes; the envelope library refuses more than this before decoding.</summary>
    public const int MaxTokenChars = BoundTokenJwe.MaxChars;

    /// <summary>A JWK Set of a few keys with their certificates.</summary>
    public const int MaxJwksBytes = 64 * 1024;

    public override string Type => GuestMessageTypes.Token;
}

/// <summary>
/// guest → host: the <see cref="TokenMessage"/> with this id was opened by the vTPM, its signature verified, and the
/// token stored at <paramref name="Path"/>; <paramref name="KeyId"/> is the JWS <c>kid</c>, <paramref name="Expires"/> its <c>exp</c>.
/// </summary>
public sealed record TokenStoredMessage(long ReplyTo, string KeyId, DateTimeOffset Expires, string Path) : GuestMessage(ReplyTo)
{
    public override string Type => GuestMessageTypes.TokenStored;
}

/// <summary>Either end: a request could not be served (see <see cref="GuestErrorCodes"/>).</summary>
public sealed record ErrorMessage(long? ReplyTo, string Code, string Message) : GuestMessage(ReplyTo)
{
    public override string Type => GuestMessageTypes.Error;
}

/// <summary>The <c>code</c> values of <see cref="ErrorMessage"/>.</summary>
public static class GuestErrorCodes
{
    /// <summary>The frame held no JSON object, or a member had the wrong kind or range.</summary>
    public const string MalformedMessage = "malformed-message";

    /// <summary>A <c>type</c> this agent does not serve.</summary>
    public const string UnknownType = "unknown-type";

    /// <summary>The TPM device could not be opened.</summary>
    public const string TpmUnavailable = "tpm-unavailable";

    /// <summary>A TPM command failed (the message names the command and response code).</summary>
    public const string TpmFailure = "tpm-failure";

    /// <summary>A delivered token could not be opened or did not verify (the message says which step refused it).</summary>
    public const string TokenRejected = "token-rejected";

    /// <summary>Anything else the agent could not do; it keeps serving.</summary>
    public const string Internal = "internal";
}
