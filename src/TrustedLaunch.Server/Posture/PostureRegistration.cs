using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Replicas;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Posture;

/// <summary>Wires posture into <c>tl server</c>: its stores, the engine and its worker, the webhook dispatcher, remediation.</summary>
public static class PostureRegistration
{
    public static IServiceCollection AddPosture(this IServiceCollection services, PostureOptions options)
    {
        services.TryAddSingleton(options);
        services.TryAddSingleton<PostureSignals>();
        services.TryAddSingleton<SqlPostureStore>();
        services.TryAddSingleton<SqlPostureWork>();
        services.TryAddSingleton<SqlSecurityStore>();
        // Every stored attestation result wakes the posture worker.
        services.AddSingleton<IAttestationResultStore>(s => new SignallingResultStore(
            new SqlAttestationResultStore(s.GetRequiredService<StoreDatabase>()), s.GetRequiredService<PostureSignals>()));
        services.TryAddSingleton<PostureEngine>();
        services.TryAddSingleton<SecureBootRemediation>();
        services.TryAddSingleton<WebhookDispatcher>();
        if (options.RunBackgroundWork)
        {
            services.AddHostedService<PostureWorker>();
            services.AddHostedService(s => s.GetRequiredService<WebhookDispatcher>());
            services.AddHostedService<RemediationResumer>();
        }

        return services;
    }
}

/// <summary>At start-up: resumes the remediations a restart interrupted.</summary>
internal sealed class RemediationResumer(SecureBootRemediation remediation, MaintenanceLeader leader) : IHostedService
{
    // The leader resumes; a replica that is not leader at its start leaves them to the one that is.
    public Task StartAsync(CancellationToken cancellationToken) => leader.IsLeader ? remediation.ResumeAsync(cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
