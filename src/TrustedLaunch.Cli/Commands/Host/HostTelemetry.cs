using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using TrustedLaunch.Server.Telemetry;

namespace TrustedLaunch.Cli.Commands.Host;

/// <summary>
/// <c>tl host</c>'s traces and metrics (the OpenTelemetry SDK, which reaches tl through the server's packages). Tracing is
/// always on, so the relay's spans exist and HttpClient sends their W3C <c>traceparent</c> to the service: its logs and
/// spans then carry the host's trace id. Exported only to an OTLP collector when one is configured.
/// </summary>
internal sealed class HostTelemetry : IDisposable
{
    private readonly TracerProvider _tracing;
    private readonly MeterProvider? _metrics;

    private HostTelemetry(TracerProvider tracing, MeterProvider? metrics)
    {
        _tracing = tracing;
        _metrics = metrics;
    }

    /// <param name="otlp">The collector named by <c>--otlp-endpoint</c>; null: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> when set, else none.</param>
    public static HostTelemetry Start(Uri? otlp, OtlpProtocol protocol)
    {
        bool export = otlp is not null || new TelemetryOptions().ResolveOtlpEndpoint() is not null;
        ResourceBuilder resource = ResourceBuilder.CreateDefault().AddService(TelemetrySources.HostServiceName,
            serviceVersion: typeof(HostTelemetry).Assembly.GetName().Version?.ToString(3));
        TracerProviderBuilder tracing = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource([.. TelemetrySources.ActivitySources])
            .AddHttpClientInstrumentation();
        if (export)
            tracing.AddOtlpExporter(exporter => OtlpEndpoint.Configure(exporter, otlp, protocol, "traces"));
        MeterProvider? metrics = !export
            ? null
            : Sdk.CreateMeterProviderBuilder()
                .SetResourceBuilder(resource)
                .AddMeter([.. TelemetrySources.Meters, "System.Net.Http"])
                .AddOtlpExporter(exporter => OtlpEndpoint.Configure(exporter, otlp, protocol, "metrics"))
                .Build();
        return new HostTelemetry(tracing.Build(), metrics);
    }

    public void Dispose()
    {
        _tracing.Dispose();
        _metrics?.Dispose();
    }
}
