using Microsoft.Extensions.Logging;
using TrustedLaunch.Attestation;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server;

/// <summary>
/// The service's log events (EventIds 6000–6099). Nonces, tokens, evidence bytes and keys are never logged: an event
/// names the VM, the outcome and the failing component only.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(6000, LogLevel.Information, "Attestation service listening on {Addresses}; data in {DataDirectory}")]
    public static partial void Listening(ILogger logger, string addresses, string dataDirectory);

    // The level is the caller's: a routine pass is Debug (its result is stored; one console line per attestation was a
    // visible share of the service's CPU), a pass that learned a baseline stays Information.
    [LoggerMessage(EventId = 6001, Message = "VM {VmId} attested: pass (result {ResultId}, baseline learned: {Learned})")]
    public static partial void AttestationPassed(ILogger logger, LogLevel level, Guid vmId, long resultId, bool learned);

    [LoggerMessage(6002, LogLevel.Warning, "VM {VmId} attestation failed: {Reason} [{Component}]")]
    public static partial void AttestationFailed(ILogger logger, Guid vmId, AttestationFailureReason reason, string component);

    [LoggerMessage(6003, LogLevel.Warning, "VM {VmId} sent malformed evidence (field {Field})")]
    public static partial void EvidenceMalformed(ILogger logger, Guid vmId, string field);

    [LoggerMessage(6004, LogLevel.Warning, "VM {VmId} presented a nonce that was rejected: {Consumption}")]
    public static partial void NonceRejected(ILogger logger, Guid vmId, NonceConsumption consumption);

    [LoggerMessage(6005, LogLevel.Warning, "VM {VmId}: guest agent unresponsive (reported by the host relay)")]
    public static partial void AgentUnresponsive(ILogger logger, Guid vmId);

    [LoggerMessage(6006, LogLevel.Information, "VM {VmId}: baseline relearn requested")]
    public static partial void RelearnRequested(ILogger logger, Guid vmId);

    [LoggerMessage(6007, LogLevel.Error, "Request {Method} {Path} failed unexpectedly")]
    public static partial void UnhandledError(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(6008, LogLevel.Information, "Created token-signing key {Path} ({Algorithm})")]
    public static partial void SigningKeyCreated(ILogger logger, string path, string algorithm);

    [LoggerMessage(6009, LogLevel.Information, "Reference policy {Name} {Write}")]
    public static partial void PolicyStored(ILogger logger, string name, PolicyWrite write);

    [LoggerMessage(6010, LogLevel.Information, "Reference policy {Name} removed")]
    public static partial void PolicyRemoved(ILogger logger, string name);

    [LoggerMessage(6011, LogLevel.Information, "VM {VmId}: reference policy set to {Name}")]
    public static partial void PolicyAssigned(ILogger logger, Guid vmId, string name);

    [LoggerMessage(6021, LogLevel.Information, "Image catalog: {Urn} ({Generation}) offers {Path}")]
    public static partial void ImageOffered(ILogger logger, string urn, string generation, string path);

    [LoggerMessage(6022, LogLevel.Warning, "Image catalog: a built image was not registered: {Reason}")]
    public static partial void ImageNotOffered(ILogger logger, string reason);

    [LoggerMessage(6012, LogLevel.Warning, "VM {VmId} passed, but the key sent for a bound token was refused: {Reason} [{Component}]; no token issued")]
    public static partial void BoundKeyRefused(ILogger logger, Guid vmId, BoundKeyFailureReason reason, string component);

    [LoggerMessage(6020, LogLevel.Information, "Control plane: default subscription {SubscriptionId} ({DisplayName})")]
    public static partial void DefaultSubscription(ILogger logger, string subscriptionId, string displayName);
}
