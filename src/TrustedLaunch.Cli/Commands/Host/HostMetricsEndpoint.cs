using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using TrustedLaunch.Server.Telemetry;

namespace TrustedLaunch.Cli.Commands.Host;

/// <summary>
/// <c>tl host --metrics-listen URL</c>: the host agent's metrics for Prometheus at <c>URL/metrics</c>, on a listener of
/// its own (the agent serves nothing else), with the same meters as its OTLP export (docs/observability.md).
/// </summary>
internal sealed class HostMetricsEndpoint : IAsyncDisposable
{
    public const string Path = "/metrics";

    private readonly WebApplication _app;

    private HostMetricsEndpoint(WebApplication app) => _app = app;

    /// <summary>The address Kestrel bound (port 0 resolved).</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Starts listening on <paramref name="listen"/> (http://address:port).</summary>
    public static async Task<HostMetricsEndpoint> StartAsync(Uri listen, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listen);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(listen.GetLeftPart(UriPartial.Authority));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(TelemetrySources.HostServiceName))
            .WithMetrics(metrics => metrics.AddMeter([.. TelemetrySources.Meters, "System.Net.Http"]).AddPrometheusExporter());
        WebApplication app = builder.Build();
        app.MapPrometheusScrapingEndpoint(Path);
        app.MapFallback(() => Results.NotFound());
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var endpoint = new HostMetricsEndpoint(app);
        endpoint.Address = new Uri(TrustedLaunch.Server.AttestationServiceHost.BoundAddresses(app.Services)[0]);
        return endpoint;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
