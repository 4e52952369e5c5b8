using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using TrustedLaunch.ControlPlane.Deployments;
using TrustedLaunch.ControlPlane.Network;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;

namespace TrustedLaunch.Server.ControlPlane;

/// <summary>Wires template deployments and the network model: their SQLite stores, services and the resource-type handlers.</summary>
public static class DeploymentRegistration
{
    public static IServiceCollection AddDeployments(this IServiceCollection services)
    {
        services.TryAddSingleton<IDeploymentStore, SqlDeploymentStore>();
        services.TryAddSingleton<INetworkResourceStore, SqlNetworkResourceStore>();
        services.TryAddSingleton<NetworkInUse>();
        services.TryAddSingleton<NetworkService>();
        services.TryAddSingleton<VmNetworkCheck>();
        services.TryAddSingleton<VmNicRelease>();
        services.TryAddSingleton<HostNetworkPlanner>();
        services.TryAddSingleton<ResourceTypeRegistry>();
        services.TryAddSingleton<DeploymentRunner>();
        services.TryAddSingleton<DeploymentService>();

        // The resource types a template may deploy: one IResourceTypeHandler each. A new type registers its handler
        // here, e.g. scale sets: services.AddSingleton<IResourceTypeHandler, VirtualMachineScaleSetHandler>() over
        // VirtualMachineScaleSetService.
        services.AddSingleton<IResourceTypeHandler, VirtualMachineHandler>();
        services.AddSingleton<IResourceTypeHandler, GuestAttestationExtensionHandler>();
        foreach (string type in NetworkTypes.Stored.Append(NetworkTypes.Subnets))
            services.AddSingleton<IResourceTypeHandler>(s => new NetworkResourceHandler(type, s.GetRequiredService<NetworkService>()));

        services.AddHostedService<DeploymentBootstrap>();
        return services;
    }
}

/// <summary>At start-up, fails deployments an earlier process was running; at shutdown, stops the running ones.</summary>
internal sealed class DeploymentBootstrap(DeploymentService deployments, DeploymentRunner runner) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => deployments.FailInterruptedAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => runner.StopAsync();
}
