using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
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

    public static IServiceCollection AddPortalPages(this IServiceCollection services, PortalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(options);
        services.AddRazorComponents();
        services.AddAntiforgery();
        IDataProtectionBuilder keys = services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(options.KeyDirectory)).SetApplicationName("TrustedLaunch.Portal");
        if (options.KeyProtector is not null)
            keys.ProtectKeysWithCertificate(options.KeyProtector).UnprotectKeysWithAnyCertificate(options.KeyProtector);
        services.AddAuthentication().AddCookie(PortalSignIn.Scheme, cookie =>
        {
            cookie.Cookie.Name = PortalSignIn.CookieName;
            cookie.Cookie.Path = BasePath;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.ExpireTimeSpan = PortalSignIn.Lifetime;
            cookie.SlidingExpiration = true;
            cookie.LoginPath = PortalSignIn.SignInPath;
        });
        services.AddHttpContextAccessor();
        services.TryAddSingleton<PortalArmClient>();
        services.TryAddSingleton<VmTable>();
        services.TryAddSingleton<ScopedLists>();
        return services;
    }

    /// <summary>
    /// Goes before the service's own security middleware: the sign-in cookie becomes the request's credential. The
    /// authentication middleware is placed right after it (not first, where WebApplication would put it by itself):
    /// a handler authenticates once per request, so it must first see the credential the cookie carries.
    /// </summary>
    public static WebApplication UsePortalSignIn(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<PortalCredentialMiddleware>();
        app.UseAuthentication();
        return app;
    }

    public static WebApplication MapPortalPages(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAntiforgery();
        app.MapGet(BasePath, () => Results.Redirect(BasePath + "/vms"));
        // Sign-out only forgets the cookie; it needs no antiforgery token (forcing someone out is all a forged one could do,
        // and the SameSite=Strict cookie is not sent from another site anyway).
        app.MapPost(PortalSignIn.SignOutPath, async (HttpContext context) =>
        {
            await context.SignOutAsync(PortalSignIn.Scheme);
            return Results.Redirect(PortalSignIn.SignInPath);
        }).DisableAntiforgery();
        PortalLiveEndpoints.Map(app);
        app.MapRazorComponents<App>();
        return app;
    }
}
