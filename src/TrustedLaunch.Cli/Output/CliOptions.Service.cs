namespace TrustedLaunch.Cli;

/// <summary>The service verbs' option parsers that name the server's types (not compiled into the NativeAOT <c>tl</c>).</summary>
internal static partial class CliOptions
{
    public static Server.Telemetry.OtlpProtocol ParseOtlpProtocol(string? value) =>
        value == "http/protobuf" ? Server.Telemetry.OtlpProtocol.HttpProtobuf : Server.Telemetry.OtlpProtocol.Grpc;

    /// <summary>The <see cref="Server.Telemetry.LogFormat"/> a <c>--log-format</c> value names.</summary>
    public static Server.Telemetry.LogFormat ParseLogFormat(string? value) => value switch
    {
        "json" => Server.Telemetry.LogFormat.Json,
        "systemd" => Server.Telemetry.LogFormat.Systemd,
        _ => Server.Telemetry.LogFormat.Console,
    };
}
