using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using TrustedLaunch.Portal.Components;
using TrustedLaunch.Portal.Data;

namespace TrustedLaunch.Portal;

/// <summary>
/// The portal's services and routes. The host (<c>tl server</c>) supplies the control plane's services and an
/// <see cref="IVmBaselineSource"/>; the portal reads posture and attestation history through the service's own ARM API.
/// </summary>
public static class PortalRegistration
{
    /// <summary>The portal's path prefix.</summary>
    public const string BasePath = "/portal";

    /// <param name="keyDirectory">Where the antiforgery keys persist (a private folder of the service's data).</param>
    public static IServiceCollection AddPortalPages(this IServiceCollection services, string keyDirectory)
    {
        services.AddRazorComponents();
        services.AddAntiforgery();
        services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(keyDirectory)).SetApplicationName("TrustedLaunch.Portal");
        services.AddHttpContextAccessor();
        services.TryAddSingleton<PortalArmClient>();
        services.TryAddSingleton<VmTable>();
        return services;
    }

    public static WebApplication MapPortalPages(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAntiforgery();
        app.MapGet(BasePath, () => Microsoft.AspNetCore.Http.Results.Redirect(BasePath + "/vms"));
        app.MapRazorComponents<App>();
        return app;
    }
}
