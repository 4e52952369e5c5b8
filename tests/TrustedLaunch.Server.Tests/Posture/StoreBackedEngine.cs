using Microsoft.Extensions.Logging.Abstractions;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Replicas;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;

namespace TrustedLaunch.Server.Tests.Posture;

/// <summary>A posture engine over one database's stores, as a replica builds it, without a host: for driving runs by hand.</summary>
internal static class StoreBackedEngine
{
    public static PostureEngine Create(StoreDatabase database, string replica, TimeProvider time, TimeSpan claimPeriod, int? batchSize = null,
        PostureSignals? signals = null)
    {
        PostureOptions options = batchSize is int size
            ? new() { RunBackgroundWork = false, ResultBatchSize = size }
            : new() { RunBackgroundWork = false };
        return new PostureEngine(new SqlVirtualMachineStore(database), new SqlSubscriptionStore(database), new SqlPostureStore(database),
            new SqlPostureWork(database), new SqlSecurityStore(database), new ReplicaOptions { ReplicaId = replica, LeaseDuration = claimPeriod },
            signals ?? new PostureSignals(), options, time, NullLogger<PostureEngine>.Instance);
    }
}
