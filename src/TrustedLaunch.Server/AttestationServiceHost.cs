using TrustedLaunch.Attestation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TrustedLaunch.Server.ControlPlane;
using TrustedLaunch.Server.Endpoints;
using TrustedLaunch.Server.Endpoints.Arm;
using TrustedLaunch.Server.Endpoints.Security;
using TrustedLaunch.Server.Portal;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Security;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Telemetry;

namespace TrustedLaunch.Server;

/// <summary>
/// Builds the attestation service: Kestrel on <see cref="AttestationServiceOptions.Listen"/> (loopback by default), the
/// stores (SQLite by default, PostgreSQL with <see cref="AttestationServiceOptions.Database"/>), the token-signing key from the data folder, and the minimal-API endpoints. Every error becomes an
/// <c>application/problem+json</c> response; no request can stop the service.
/// </summary>
public static class AttestationServiceHost
{
    /// <exception cref="StoreException">The database cannot be opened or is from a newer version.</exception>
    /// <exception cref="TrustAnchorException">The <c>--ca</c> folder has no readable AK CA.</exception>
    /// <exception cref="ArgumentException">The listen URL is not usable with the security options (docs/security.md).</exception>
    public static WebApplication Build(AttestationServiceOptions options, TimeProvider? time = null, Action<ILoggingBuilder>? configureLogging = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ServiceSecurityRegistration.CheckListen(options.Listen, options.Security);

        CreatePrivateDirectory(options.DataDirectory);
        StoreDatabase database = StoreDatabase.Open(options.Database ?? options.DatabasePath);
        var trust = new ServiceTrust(options.CaDirectory);

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            // No reloading of appsettings*.json: it watches the content root, which is the data folder, so every write of
            // the database's WAL woke a file-watcher thread (5 % of the server's CPU under load, docs/benchmarks.md).
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = options.DataDirectory,
            EnvironmentName = "Production",
        });
        builder.WebHost.UseUrls(options.Listen);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
        });
        builder.AddServiceTelemetry(options.Telemetry, configureLogging);

        builder.Services.ConfigureHttpJsonOptions(json => ServiceJson.Configure(json.SerializerOptions));
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(time ?? TimeProvider.System);
        builder.Services.AddStores(database, options.Replica);
        builder.Services.AddSingleton(trust);
        builder.Services.AddSingleton<ReferencePolicyCache>();
        builder.Services.AddSingleton<BaselineCache>();
        builder.Services.AddSingleton(services => TokenService.Open(options, () => ResolveIssuer(options, services),
            services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILogger<TokenService>>()));
        builder.Services.AddSingleton(services => new AttestationVerifier(services.GetRequiredService<TimeProvider>(), new VerificationCaches(options.VerificationCaches)));
        builder.Services.AddSingleton<AttestationService>();
        builder.Services.AddHostedService<NoncePurger>();
        builder.Services.AddControlPlane(options.ControlPlane);
        builder.Services.AddPosture(options.Posture);
        builder.Services.AddOpenApi(ArmOpenApi.Configure);
        builder.AddServiceSecurity(options, database);
        builder.AddPortal(options);

        WebApplication app = builder.Build();
        app.Use(ProblemOnErrorAsync);
        // Challenges and evidence, the two calls of every attestation, skip what does nothing for them (the portal's sign-in
        // cookie, the authentication middleware — ServiceSecurityMiddleware authenticates where a route needs it —, antiforgery)
        // and keep what the security model applies to them: authentication and access, the audit of writes, the rate limit.
        // Routing has already run (WebApplication puts it first), so the branch runs the endpoint it chose.
        app.MapWhen(VmAttestationEndpoints.IsEvidenceExchange, exchange => exchange.UseRequestSecurity().Run(RunEndpointAsync));
        app.UsePortalCredentials();
        app.UseServiceSecurity();
        VmAttestationEndpoints.Map(app);
        KeyChangeEndpoints.Map(app);
        PolicyEndpoints.Map(app);
        MetadataEndpoints.Map(app);
        ControlPlaneEndpoints.Map(app);
        SecurityEndpoints.Map(app);
        app.MapPortal();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapServiceTelemetry();
        app.MapFallback(() => VmAttestationEndpoints.Problem(StatusCodes.Status404NotFound, ServiceProblem.TypePrefix + "NoSuchEndpoint",
            "No such endpoint", "See docs/server.md for the API."));

        // Create (or load) the signing key now, so a bad key file fails the start, not the first attestation.
        _ = app.Services.GetRequiredService<TokenService>();
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AttestationServiceHost).FullName!);
            Log.Listening(logger, string.Join(", ", BoundAddresses(app.Services)), options.DataDirectory);
        });
        return app;
    }

    /// <summary>The addresses Kestrel actually bound (port 0 resolved), once the app has started.</summary>
    public static IReadOnlyList<string> BoundAddresses(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
    }

    private static string ResolveIssuer(AttestationServiceOptions options, IServiceProvider services) =>
        options.Issuer ?? (BoundAddresses(services) is [string first, ..] ? first : options.Listen);

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(path);
        else
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static Task RunEndpointAsync(HttpContext context) =>
        context.GetEndpoint()?.RequestDelegate is RequestDelegate endpoint ? endpoint(context) : Task.CompletedTask;

    // The last line of defence: whatever a request does, it gets a problem document and the service keeps serving.
    private static async Task ProblemOnErrorAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            (int status, string type, string title, string detail) = e switch
            {
                BadHttpRequestException bad => (bad.StatusCode, ServiceProblem.BadRequest, "Bad request", bad.Message),
                StoreException or System.Data.Common.DbException => (StatusCodes.Status503ServiceUnavailable, ServiceProblem.StoreUnavailable,
                    "Store unavailable", "The database could not be used; retry later."),
                TrustAnchorException trust => (StatusCodes.Status503ServiceUnavailable, ServiceProblem.TypePrefix + "NoTrustAnchor",
                    "No AK CA for this VM", trust.Message),
                _ => (StatusCodes.Status500InternalServerError, ServiceProblem.Internal, "Internal error", "The request failed; see the service log."),
            };
            if (status >= 500)
            {
                ILogger logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AttestationServiceHost).FullName!);
                Log.UnhandledError(logger, e, context.Request.Method, context.Request.Path);
            }

            context.Response.Clear();
            await VmAttestationEndpoints.Problem(status, type, title, detail).ExecuteAsync(context);
        }
    }
}
