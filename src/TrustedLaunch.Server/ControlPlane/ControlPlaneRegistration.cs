using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.ScaleSets;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.Snapshots;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;

namespace TrustedLaunch.Server.ControlPlane;

/// <summary>Wires the control plane (TrustedLaunch.ControlPlane) into <c>tl server</c>: its stores, services and start-up.</summary>
public static class ControlPlaneRegistration
{
    public static IServiceCollection AddControlPlane(this IServiceCollection services, ControlPlaneOptions options)
    {
        services.TryAddSingleton(options);
        services.TryAddSingleton<ISubscriptionStore>(s => new SqlSubscriptionStore(s.GetRequiredService<StoreDatabase>(), options.DefaultSubscriptionName));
        services.TryAddSingleton<IResourceGroupStore, SqlResourceGroupStore>();
        services.TryAddSingleton<IVirtualMachineStore, SqlVirtualMachineStore>();
        services.TryAddSingleton<IVirtualMachineScaleSetStore, SqlVirtualMachineScaleSetStore>();
        services.TryAddSingleton<IOperationStore, SqlOperationStore>();
        services.TryAddSingleton<IHostStore, SqlHostStore>();
        services.TryAddSingleton<IImageStore, SqlImageStore>();
        services.TryAddSingleton<ISnapshotStore, SqlSnapshotStore>();
        services.TryAddSingleton<TrustedLaunch.ControlPlane.Disks.IDiskStore, SqlDiskStore>();
        services.TryAddSingleton<IDiskImageProbe, DiskImageProbe>();
        services.TryAddSingleton<IBootChainVerifier, BootChainVerifier>();
        services.TryAddSingleton<SecureBootPreflight>();
        services.TryAddSingleton<IReferencePolicyLookup, ReferencePolicyLookup>();
        services.TryAddSingleton<IAttestationStatusSource, AttestationStatusSource>();
        services.TryAddSingleton<IAttestationEnrollment, AttestationEnrollment>();
        services.TryAddSingleton<IKeyChangeSanctions, KeyChangeSanctions>();
        services.TryAddSingleton<SecureBootKeyUpdates>();
        services.TryAddSingleton<HostSignals>();
        services.TryAddSingleton<SqlHostPollClaims>();
        services.TryAddSingleton<IHostPollClaims>(s => s.GetRequiredService<SqlHostPollClaims>());
        services.TryAddSingleton<HostPollWait>();
        services.TryAddSingleton<Placement>();
        services.TryAddSingleton<SubscriptionService>();
        services.TryAddSingleton<ImageCatalogService>();
        services.TryAddSingleton<VirtualMachineService>();
        services.TryAddSingleton<VirtualMachineLifecycle>();
        services.TryAddSingleton<ScaleSetNetwork>();
        services.TryAddSingleton<VirtualMachineScaleSetService>();
        services.TryAddSingleton<ScaleSetOperationSweep>();
        services.TryAddSingleton<ResourceGroupService>();
        services.TryAddSingleton<OperationService>();
        services.TryAddSingleton<HostCoordinator>();
        services.TryAddSingleton<LibvirtDomainService>();
        services.TryAddSingleton<SnapshotService>();
        services.TryAddSingleton<TrustedLaunch.ControlPlane.Disks.DiskService>();
        services.TryAddSingleton<TrustedLaunch.ControlPlane.Disks.RestoredDiskService>();
        services.TryAddSingleton<SnapshotRestoreService>();
        services.TryAddSingleton<IQuoteClockFloors, QuoteClockFloors>();
        services.TryAddSingleton<BuiltImageRegistration>();
        services.AddDeployments();
        services.AddHostedService<ControlPlaneBootstrap>();
        services.AddHostedService<BuiltImageBootstrap>();
        services.AddHostedService<ScaleSetSweeper>();
        services.AddHostedService<HostPollClaimSweeper>();
        return services;
    }
}

/// <summary>At start-up (before the server listens): makes sure the default subscription exists and logs its id.</summary>
internal sealed class ControlPlaneBootstrap(SubscriptionService subscriptions, ILogger<ControlPlaneBootstrap> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        SubscriptionRecord subscription = await subscriptions.EnsureDefaultAsync(cancellationToken);
        Log.DefaultSubscription(logger, subscription.SubscriptionId, subscription.DisplayName);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
