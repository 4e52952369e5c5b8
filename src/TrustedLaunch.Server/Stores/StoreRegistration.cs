using Microsoft.Extensions.DependencyInjection;
using TrustedLaunch.Server.Replicas;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Stores;

/// <summary>
/// Registers the database, the attestation stores on it and the maintenance leader election among the replicas sharing
/// it; the control plane and posture add their stores on the same database.
/// </summary>
public static class StoreRegistration
{
    public static IServiceCollection AddStores(this IServiceCollection services, StoreDatabase database, ReplicaOptions replica)
    {
        ArgumentNullException.ThrowIfNull(database);
        services.AddSingleton(database);
        services.AddSingleton(replica);
        services.AddSingleton<ILeaseStore, SqlLeaseStore>();
        // Registered before every worker it gates, so its first election completes before they start.
        services.AddSingleton<MaintenanceLeader>();
        services.AddHostedService(s => s.GetRequiredService<MaintenanceLeader>());
        if (database is PostgresDatabase postgres)
        {
            services.AddSingleton(postgres);
            services.AddHostedService<PostgresDoorbell>();
        }
        services.AddSingleton<INonceStore, SqlNonceStore>();
        services.AddSingleton<IBaselineStore, SqlBaselineStore>();
        services.AddSingleton<IQuoteClockStore, SqlQuoteClockStore>();
        services.AddSingleton<IAttestationStateStore, SqlAttestationStateStore>();
        services.AddSingleton<ISanctionedRestoreStore, SqlSanctionedRestoreStore>();
        services.AddSingleton<IVmRegistry, SqlVmRegistry>();
        services.AddSingleton<IPolicyStore, SqlPolicyStore>();
        return services;
    }
}
