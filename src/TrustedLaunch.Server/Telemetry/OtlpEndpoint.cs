using OpenTelemetry.Exporter;

namespace TrustedLaunch.Server.Telemetry;

/// <summary>Points one OTLP exporter (traces, metrics or logs) at the collector a command line named.</summary>
public static class OtlpEndpoint
{
    /// <param name="endpoint">The collector given as an option; null leaves the SDK to the <c>OTEL_EXPORTER_OTLP_*</c> variables.</param>
    /// <param name="signal"><c>traces</c>, <c>metrics</c> or <c>logs</c>.</param>
    public static void Configure(OtlpExporterOptions exporter, Uri? endpoint, OtlpProtocol protocol, string signal)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        if (endpoint is null)
            return;
        exporter.Protocol = protocol == OtlpProtocol.HttpProtobuf ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        // An endpoint set in code is used as is: over HTTP it must name the signal's path, which the variables would add.
        exporter.Endpoint = protocol == OtlpProtocol.HttpProtobuf
            ? new Uri(new Uri(endpoint.ToString().TrimEnd('/') + "/"), "v1/" + signal)
            : endpoint;
    }
}
