using Microsoft.Extensions.Logging;

namespace TrustedLaunch.HostAgent;

/// <summary>The host agent's log events (EventIds 7000-7099). Never nonces, evidence or keys.</summary>
internal static partial class Log
{
    [LoggerMessage(7000, LogLevel.Information, "Host {Host}: registered with {Server} ({VCpus} vCPUs, {MemoryInMB} MiB, {Accelerator})")]
    public static partial void Registered(ILogger logger, string host, Uri server, int vCpus, int memoryInMB, string accelerator);

    [LoggerMessage(7001, LogLevel.Warning, "Host {Host}: the control plane is not reachable ({Reason}); retrying")]
    public static partial void ServerUnreachable(ILogger logger, string host, string reason);

    [LoggerMessage(7002, LogLevel.Information, "VM {VmId}: adopted (QEMU pid {Pid}, {State})")]
    public static partial void Adopted(ILogger logger, Guid vmId, int pid, string state);

    [LoggerMessage(7003, LogLevel.Information, "VM {VmId}: created its folder (disk, {GuestState}) in {Elapsed} ms")]
    public static partial void Created(ILogger logger, Guid vmId, string guestState, long elapsed);

    [LoggerMessage(7004, LogLevel.Information, "VM {VmId}: {Action}")]
    public static partial void Action(ILogger logger, Guid vmId, string action);

    [LoggerMessage(7005, LogLevel.Warning, "VM {VmId}: {Step} failed: {Code}: {Message}")]
    public static partial void Failed(ILogger logger, Guid vmId, string step, string code, string message);

    [LoggerMessage(7006, LogLevel.Information, "VM {VmId}: boot verdict {Verdict} after {Seconds:0.0} s")]
    public static partial void Verdict(ILogger logger, Guid vmId, string verdict, double seconds);

    [LoggerMessage(7090, LogLevel.Warning, "libvirt domain {Domain}: {Message}")]
    public static partial void LibvirtDomainFailed(ILogger logger, string domain, string message);

    [LoggerMessage(7007, LogLevel.Information, "VM {VmId}: attestation {Outcome} in {Elapsed} ms")]
    public static partial void Attested(ILogger logger, Guid vmId, string outcome, long elapsed);

    [LoggerMessage(7008, LogLevel.Warning, "VM {VmId}: the guest agent did not answer ({Reason}); recorded as AgentUnresponsive")]
    public static partial void AgentUnresponsive(ILogger logger, Guid vmId, string reason);

    [LoggerMessage(7052, LogLevel.Information, "VM {VmId}: the guest agent did not speak within {Seconds} s of connecting to its port; connecting again")]
    public static partial void AgentSilent(ILogger logger, Guid vmId, double seconds);

    [LoggerMessage(7053, LogLevel.Information, "VM {VmId}: the guest agent opened its session on connection {Connections} to its port")]
    public static partial void AgentSessionOpened(ILogger logger, Guid vmId, int connections);

    [LoggerMessage(7030, LogLevel.Information, "VM {VmId}: bound token opened by the guest (signed by {KeyId}, expires {Expires:O})")]
    public static partial void TokenDelivered(ILogger logger, Guid vmId, string keyId, DateTimeOffset expires);

    [LoggerMessage(7031, LogLevel.Warning, "VM {VmId}: the bound token did not reach the guest: {Reason}")]
    public static partial void TokenNotDelivered(ILogger logger, Guid vmId, string reason);

    [LoggerMessage(7032, LogLevel.Information, "VM {VmId}: the guest agent could not make a bound key ({Reason}); attesting without one")]
    public static partial void BindingUnavailable(ILogger logger, Guid vmId, string reason);

    [LoggerMessage(7009, LogLevel.Warning, "VM folder {Folder} belongs to no VM the control plane placed here; left alone")]
    public static partial void Unassigned(ILogger logger, string folder);

    [LoggerMessage(7010, LogLevel.Error, "VM {VmId}: unexpected failure while converging")]
    public static partial void Unexpected(ILogger logger, Exception exception, Guid vmId);

    [LoggerMessage(7011, LogLevel.Information, "VM {VmId}: deleted ({How})")]
    public static partial void Deleted(ILogger logger, Guid vmId, string how);

    [LoggerMessage(7050, LogLevel.Information, "client certificate renewed (serial {Previous} until {PreviousNotAfter:u} → {Serial} until {NotAfter:u})")]
    public static partial void CertificateRenewed(ILogger logger, string previous, DateTime previousNotAfter, string serial, DateTime notAfter);

    [LoggerMessage(7051, LogLevel.Warning, "client certificate (until {NotAfter:u}) not renewed, tried again at the next check: {Reason}")]
    public static partial void CertificateNotRenewed(ILogger logger, DateTime notAfter, string reason);

    [LoggerMessage(7012, LogLevel.Information, "VM {VmId}: NIC {Nic}'s host forwards are now [{Forwards}] (applied while it runs)")]
    public static partial void HostForwardsChanged(ILogger logger, Guid vmId, int nic, string forwards);
}
