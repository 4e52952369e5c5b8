using System.CommandLine;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.Cli;

/// <summary>
/// The options many commands share, made in one place so their names and shapes agree; each command says in its own
/// words what the option means for it.
/// </summary>
internal static partial class CliOptions
{
    /// <summary><c>--json</c>: print the result as one JSON document on stdout (<see cref="CliJson"/>).</summary>
    public static Option<bool> Json(string description = "Print the result as JSON.") => new("--json") { Description = description };

    /// <summary><c>--vm-id ID</c>, required.</summary>
    public static Option<string> VmId(string description) => new("--vm-id") { Description = description, Required = true };

    /// <summary><c>--vm-id ID</c>, optional (the command picks one when absent).</summary>
    public static Option<string?> OptionalVmId(string description) => new("--vm-id") { Description = description };

    /// <summary><c>--ca DIR</c>: a platform CA folder made by <c>tl ca init</c>, required.</summary>
    public static Option<string> Ca(string description) => new("--ca") { Description = description, Required = true };

    /// <summary><c>--ca DIR</c>, optional (the command falls back to another CA when absent).</summary>
    public static Option<string?> OptionalCa(string description) => new("--ca") { Description = description };

    /// <summary><c>--key-file FILE</c>, required.</summary>
    public static Option<string> KeyFile(string description) => new("--key-file") { Description = description, Required = true };

    /// <summary><c>--key-file FILE</c>, optional.</summary>
    public static Option<string?> OptionalKeyFile(string description) => new("--key-file") { Description = description };

    /// <summary><c>--data DIR</c>: the attestation service's data folder, default <c>TL_HOME</c>.</summary>
    public static Option<string?> Data() => new("--data")
    {
        Description = $"Service data folder (database tl.db, token-signing key); default TL_HOME ({TlHome.EnvironmentVariable}, /var/lib/trustedlaunch as root).",
    };

    /// <summary>
    /// <c>--database</c> of the commands that write the service's database directly (<c>tl server vm|policy|principal|audit|host</c>):
    /// the PostgreSQL connection string the replicas share; default: the SQLite file in <c>--data</c>.
    /// </summary>
    public static Option<string?> ServerDatabase() => new("--database")
    {
        Description = "The service database as 'tl server --database' names it: a PostgreSQL connection string ('Host=...;Database=...') " +
            "shared by the replicas; default: tl.db in --data.",
    };

    /// <summary><c>--log-format console|json|systemd</c>: how a long-running service writes its log (docs/observability.md).</summary>
    public static Option<string> LogFormat()
    {
        var option = new Option<string>("--log-format")
        {
            Description = "Log lines: console (readable, the default), json (one object per line with the trace id), systemd (syslog priority prefixes for the journal).",
            DefaultValueFactory = _ => "console",
        };
        option.AcceptOnlyFromAmong("console", "json", "systemd");
        return option;
    }

    /// <summary><c>--otlp-endpoint URL</c>: an OpenTelemetry collector for traces, metrics and logs.</summary>
    public static Option<string?> OtlpEndpoint() => new("--otlp-endpoint")
    {
        Description = "OpenTelemetry collector (OTLP, e.g. http://127.0.0.1:4317) that gets traces, metrics and logs; default OTEL_EXPORTER_OTLP_ENDPOINT, else none.",
    };

    /// <summary><c>--otlp-protocol grpc|http/protobuf</c>: how <c>--otlp-endpoint</c> is spoken to.</summary>
    public static Option<string> OtlpProtocol()
    {
        var option = new Option<string>("--otlp-protocol")
        {
            Description = "OTLP transport for --otlp-endpoint: grpc (port 4317, the default) or http/protobuf (port 4318).",
            DefaultValueFactory = _ => "grpc",
        };
        option.AcceptOnlyFromAmong("grpc", "http/protobuf");
        return option;
    }

    /// <summary>An <c>--otlp-endpoint</c> value as an absolute http(s) URL; null when absent.</summary>
    public static Uri? ParseOtlpEndpoint(string? value)
    {
        if (value is null)
            return null;
        if (!Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new CliException(ExitCode.BadInput, $"--otlp-endpoint '{value}' is not an absolute http:// or https:// URL.");
        return uri;
    }
}

/// <summary>The writers of the running invocation: every command writes through these, never to <see cref="Console"/>.</summary>
internal static class InvocationOutput
{
    /// <summary>stdout of this invocation.</summary>
    public static TextWriter Out(this ParseResult parse) => parse.InvocationConfiguration.Output;

    /// <summary>stderr of this invocation.</summary>
    public static TextWriter Error(this ParseResult parse) => parse.InvocationConfiguration.Error;
}
