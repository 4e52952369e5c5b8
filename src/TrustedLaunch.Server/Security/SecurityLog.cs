using Microsoft.Extensions.Logging;

namespace TrustedLaunch.Server.Security;

/// <summary>Security log events (EventIds 6070–6089). Secrets (API keys, join tokens, keys) are never logged; callers by id only.</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(6070, LogLevel.Warning, "Authentication is off: listening on loopback only, every local caller is trusted (the zero-configuration default; --auth turns authentication on)")]
    public static partial void AuthenticationOff(ILogger logger);

    [LoggerMessage(6071, LogLevel.Information, "Authentication is on: bearer tokens{Jwt}, host client certificates{Tls}; rate limit {Limit}")]
    public static partial void AuthenticationOn(ILogger logger, string jwt, string tls, string limit);

    [LoggerMessage(6072, LogLevel.Warning, "Refused {Method} {Path} from {Caller} at {Remote}: {Status} {Reason}")]
    public static partial void Refused(ILogger logger, string method, string path, string caller, string? remote, int status, string reason);

    [LoggerMessage(6073, LogLevel.Error, "The audit record of {Method} {Path} could not be stored")]
    public static partial void AuditFailed(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(6074, LogLevel.Information, "Host {HostName} enrolled (certificate serial {Serial})")]
    public static partial void HostEnrolled(ILogger logger, string hostName, string serial);

    [LoggerMessage(6075, LogLevel.Information, "Host {HostName} renewed its client certificate (serial {Previous} → {Serial})")]
    public static partial void HostCertificateRenewed(ILogger logger, string hostName, string previous, string serial);
}
