using Microsoft.Extensions.Logging;

namespace TrustedLaunch.Server.Replicas;

internal static partial class ReplicaLog
{
    [LoggerMessage(6100, LogLevel.Information, "Replica {ReplicaId} is the maintenance leader")]
    public static partial void BecameLeader(ILogger logger, string replicaId);

    [LoggerMessage(6101, LogLevel.Warning, "Replica {ReplicaId} is no longer the maintenance leader")]
    public static partial void LostLeadership(ILogger logger, string replicaId);

    [LoggerMessage(6102, LogLevel.Warning, "Lease {Lease}: renewal failed ({Reason}); retrying")]
    public static partial void LeaseRenewalFailed(ILogger logger, string lease, string reason);

    [LoggerMessage(6103, LogLevel.Warning, "PostgreSQL doorbell: {Reason}; other replicas' host polls answer at their timeout until it reconnects")]
    public static partial void DoorbellReconnecting(ILogger logger, string reason);
}
