using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TrustedLaunch.Portal;
using TrustedLaunch.Portal.Data;
using TrustedLaunch.Server.Security;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Portal;

/// <summary>Serves the web portal (TrustedLaunch.Portal) at <c>/portal</c> over this service's control plane and API.</summary>
internal static class PortalComposition
{
    /// <exception cref="TokenKeyException">The portal's key-ring protector cannot be read, written, or others can read it.</exception>
    public static WebApplicationBuilder AddPortal(this WebApplicationBuilder builder, AttestationServiceOptions options)
    {
        string keys = Path.Combine(options.DataDirectory, "portal-keys");
        PortalKeyRingProtector.DiscardUnprotectedKeys(keys);
        builder.Services.AddPortalPages(new PortalOptions(keys, PortalKeyRingProtector.OpenOrCreate(options.DataDirectory), options.Security.RequireAuthentication));
        builder.Services.AddSingleton<IVmBaselineSource, StoredBaselineSource>();
        return builder;
    }

    /// <summary>Before the service's security: the portal's sign-in cookie becomes the request's bearer credential.</summary>
    public static WebApplication UsePortalCredentials(this WebApplication app) => app.UsePortalSignIn();

    public static WebApplication MapPortal(this WebApplication app)
    {
        // The caller the security middleware authorised, as the pages read it (PortalUser): its name, roles and scopes.
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(PortalRegistration.BasePath, StringComparison.OrdinalIgnoreCase) && ServiceCaller.Of(context) is ServiceCaller caller)
                context.User = PortalPrincipal(caller);
            await next(context);
        });
        return app.MapPortalPages();
    }

    internal static ClaimsPrincipal PortalPrincipal(ServiceCaller caller)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, caller.Name), new(ClaimTypes.NameIdentifier, caller.ObjectId) };
        claims.AddRange(caller.Assignments.Select(a => a.Role.ToString()).Distinct(StringComparer.Ordinal).Select(role => new Claim(ClaimTypes.Role, role)));
        claims.AddRange(caller.Assignments.Where(a => a.Grants(AccessLevel.Read)).Select(a => new Claim(PortalUser.ScopeClaim, a.Scope)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, "TrustedLaunch", ClaimTypes.Name, ClaimTypes.Role));
    }
}

/// <summary>The portal's view of the baseline store.</summary>
internal sealed class StoredBaselineSource(IBaselineStore baselines) : IVmBaselineSource
{
    public async Task<VmBaseline?> GetAsync(Guid vmId, CancellationToken cancellationToken) =>
        await baselines.GetAsync(vmId, cancellationToken) is StoredBaseline stored
            ? new VmBaseline(stored.BaselineJson, stored.LearnedAt, stored.RelearnRequested)
            : null;
}
