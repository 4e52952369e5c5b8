using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using TrustedLaunch.Portal;
using TrustedLaunch.Portal.Data;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Portal;

/// <summary>Serves the web portal (TrustedLaunch.Portal) at <c>/portal</c> over this service's control plane and API.</summary>
internal static class PortalComposition
{
    public static WebApplicationBuilder AddPortal(this WebApplicationBuilder builder, AttestationServiceOptions options)
    {
        builder.Services.AddPortalPages(Path.Combine(options.DataDirectory, "portal-keys"));
        builder.Services.AddSingleton<IVmBaselineSource, StoredBaselineSource>();
        return builder;
    }

    public static WebApplication MapPortal(this WebApplication app) => app.MapPortalPages();
}

/// <summary>The portal's view of the baseline store.</summary>
internal sealed class StoredBaselineSource(IBaselineStore baselines) : IVmBaselineSource
{
    public async Task<VmBaseline?> GetAsync(Guid vmId, CancellationToken cancellationToken) =>
        await baselines.GetAsync(vmId, cancellationToken) is StoredBaseline stored
            ? new VmBaseline(stored.BaselineJson, stored.LearnedAt, stored.RelearnRequested)
            : null;
}
