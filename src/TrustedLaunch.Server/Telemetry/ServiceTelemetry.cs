using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace TrustedLaunch.Server.Telemetry;

/// <summary>
/// The service's logs, metrics and traces in one place: the log format, the instruments the service records into, and
/// the OpenTelemetry exporters (Prometheus at <see cref="TelemetryOptions.MetricsPath"/>, OTLP when a collector is
/// configured). Incoming W3C <c>traceparent</c> headers continue the caller's trace (the host agent's).
/// </summary>
public static class ServiceTelemetry
{
    /// <param name="configureLogging">Replaces the log providers <see cref="TelemetryOptions.LogFormat"/> chooses (tests capture logs).</param>
    public static WebApplicationBuilder AddServiceTelemetry(this WebApplicationBuilder builder, TelemetryOptions options,
        Action<ILoggingBuilder>? configureLogging = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        builder.Logging.ClearProviders();
        if (configureLogging is null)
            AddLogFormat(builder.Logging, options.LogFormat);
        else
            configureLogging(builder.Logging);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        builder.Services.TryAddSingleton(options);
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton<AttestationTelemetry>();
        builder.Services.TryAddSingleton<ControlPlaneTelemetry>();
        builder.Services.TryAddSingleton<PostureTelemetry>();

        Uri? otlp = options.ResolveOtlpEndpoint();
        if (options.MetricsPath is null && otlp is null)
            return builder; // nothing exported: the instruments cost nothing without a listener
        builder.Services.AddHostedService<VmPowerStateSampler>();
        OpenTelemetryBuilder telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(TelemetrySources.ServerServiceName, serviceVersion: ProductVersion()))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter([.. TelemetrySources.Meters, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http"]);
                if (options.MetricsPath is not null)
                    metrics.AddPrometheusExporter();
                if (otlp is not null)
                    metrics.AddOtlpExporter(exporter => OtlpEndpoint.Configure(exporter, options.OtlpEndpoint, options.OtlpProtocol, "metrics"));
            })
            .WithTracing(tracing =>
            {
                tracing.AddSource([.. TelemetrySources.ActivitySources]);
                tracing.AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = context =>
                    options.MetricsPath is null || !context.Request.Path.StartsWithSegments(options.MetricsPath, StringComparison.Ordinal));
                tracing.AddHttpClientInstrumentation(); // webhook deliveries
                if (otlp is not null)
                    tracing.AddOtlpExporter(exporter => OtlpEndpoint.Configure(exporter, options.OtlpEndpoint, options.OtlpProtocol, "traces"));
            });
        if (otlp is not null)
            telemetry.WithLogging(logging => logging.AddOtlpExporter(exporter => OtlpEndpoint.Configure(exporter, options.OtlpEndpoint, options.OtlpProtocol, "logs")));
        return builder;
    }

    /// <summary>Maps the Prometheus scraping endpoint (when <see cref="TelemetryOptions.MetricsPath"/> is set).</summary>
    public static WebApplication MapServiceTelemetry(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        TelemetryOptions options = app.Services.GetRequiredService<TelemetryOptions>();
        if (options.MetricsPath is not null)
            app.MapPrometheusScrapingEndpoint(options.MetricsPath);
        return app;
    }

    /// <summary>The console log providers of each <see cref="LogFormat"/>; every one tags events with the current trace.</summary>
    public static void AddLogFormat(ILoggingBuilder logging, LogFormat format)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.Configure(factory => factory.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        switch (format)
        {
            case LogFormat.Json:
                logging.AddJsonConsole(json =>
                {
                    json.IncludeScopes = true; // the trace and span ids travel as a scope
                    json.UseUtcTimestamp = true;
                    json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                });
                break;
            case LogFormat.Systemd:
                logging.AddSystemdConsole(systemd => systemd.IncludeScopes = true);
                break;
            default:
                logging.AddSimpleConsole(console => console.SingleLine = true);
                break;
        }
    }

    private static string ProductVersion() =>
        typeof(ServiceTelemetry).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}
