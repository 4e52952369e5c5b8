using Microsoft.Extensions.Logging;

namespace TrustedLaunch.Server;

/// <summary>Log events of sanctioned Secure Boot key changes (EventIds 6090–6099 of the service's range).</summary>
internal static partial class KeyChangeLog
{
    [LoggerMessage(6090, LogLevel.Information, "VM {VmId}: Secure Boot key change of operation {OperationId} armed for its next boot")]
    public static partial void Armed(ILogger logger, Guid vmId, string operationId);

    [LoggerMessage(6091, LogLevel.Information, "VM {VmId}: PCR 7 changed as operation {OperationId} sanctioned; early-boot baseline relearned for it")]
    public static partial void Relearned(ILogger logger, Guid vmId, string operationId);
}
