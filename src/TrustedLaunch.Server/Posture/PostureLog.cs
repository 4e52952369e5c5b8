using Microsoft.Extensions.Logging;

namespace TrustedLaunch.Server.Posture;

/// <summary>Posture's log events (EventIds 6100–6149). Webhook URLs are logged by host only, never with their path, query or credentials.</summary>
internal static partial class PostureLog
{
    [LoggerMessage(6100, LogLevel.Debug, "Posture sweep: {Vms} VMs evaluated, {Changes} status changes")]
    public static partial void Swept(ILogger logger, int vms, int changes);

    [LoggerMessage(6101, LogLevel.Error, "Posture evaluation failed; retrying at the next interval")]
    public static partial void EvaluationFailed(ILogger logger, Exception exception);

    [LoggerMessage(6102, LogLevel.Warning, "Security alert {AlertType} ({Reason}) for {ResourceId}")]
    public static partial void AlertRaised(ILogger logger, string alertType, string reason, string resourceId);

    [LoggerMessage(6103, LogLevel.Warning, "Webhook {Webhook} (host {Host}): delivery of event {EventId} failed after {Attempts} attempts")]
    public static partial void DeliveryFailed(ILogger logger, string webhook, string host, string eventId, int attempts);

    [LoggerMessage(6104, LogLevel.Warning, "Webhook {Webhook} (host {Host}) disabled: {Reason}")]
    public static partial void WebhookDisabled(ILogger logger, string webhook, string host, string reason);

    [LoggerMessage(6105, LogLevel.Error, "Webhook dispatch failed; retrying at the next interval")]
    public static partial void DispatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(6106, LogLevel.Information, "Remediation of {Key} on {ResourceId}: {Status} ({Step})")]
    public static partial void Remediation(ILogger logger, string key, string resourceId, string status, string step);
}
