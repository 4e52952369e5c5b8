using Microsoft.Extensions.DependencyInjection;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Stores;

/// <summary>Registers the database and the attestation stores on it; the control plane and posture add theirs on the same database.</summary>
public static class StoreRegistration
{
    public static IServiceCollection AddStores(this IServiceCollection services, StoreDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        services.AddSingleton(database);
        services.AddSingleton<INonceStore, SqlNonceStore>();
        services.AddSingleton<IBaselineStore, SqlBaselineStore>();
        services.AddSingleton<IQuoteClockStore, SqlQuoteClockStore>();
        services.AddSingleton<IVmRegistry, SqlVmRegistry>();
        services.AddSingleton<IPolicyStore, SqlPolicyStore>();
        return services;
    }
}
