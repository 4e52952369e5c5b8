namespace TrustedLaunch.Server.Telemetry;

/// <summary>How a process writes its log lines.</summary>
public enum LogFormat
{
    /// <summary>One human-readable line per event (the default).</summary>
    Console,

    /// <summary>One JSON object per line, with the event's properties and the trace and span id of the request it belongs to.</summary>
    Json,

    /// <summary>One line per event prefixed with its syslog priority (<c>&lt;6&gt;</c>), which journald reads as the entry's level.</summary>
    Systemd,
}

/// <summary>The OTLP transport (<c>OTEL_EXPORTER_OTLP_PROTOCOL</c>'s two values).</summary>
public enum OtlpProtocol
{
    /// <summary><c>grpc</c>, usually port 4317 (the OpenTelemetry default).</summary>
    Grpc,

    /// <summary><c>http/protobuf</c>, usually port 4318: each signal is POSTed to <c>/v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c>.</summary>
    HttpProtobuf,
}

/// <summary>What <c>tl server</c> exports about itself (docs/observability.md); immutable once the host is built.</summary>
public sealed record TelemetryOptions
{
    /// <summary>The Prometheus scraping path; null: no scraping endpoint.</summary>
    public string? MetricsPath { get; init; } = "/metrics";

    /// <summary>
    /// An OpenTelemetry collector (OTLP, e.g. <c>http://127.0.0.1:4317</c>) that gets traces, metrics and logs; null: the
    /// standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable when it is set, else none.
    /// </summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>How <see cref="OtlpEndpoint"/> is spoken to.</summary>
    public OtlpProtocol OtlpProtocol { get; init; } = OtlpProtocol.Grpc;

    public LogFormat LogFormat { get; init; } = LogFormat.Console;

    /// <summary>How often VMs are counted by power state for the <c>tl.vms</c> gauge.</summary>
    public TimeSpan PowerStateInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The collector to export to: <see cref="OtlpEndpoint"/>, else the standard environment variable.</summary>
    public Uri? ResolveOtlpEndpoint() =>
        OtlpEndpoint ?? (Uri.TryCreate(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"), UriKind.Absolute, out Uri? fromEnvironment)
            ? fromEnvironment
            : null);
}
