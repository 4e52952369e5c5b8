namespace TrustedLaunch.Server.Telemetry;

/// <summary>
/// The names of every Meter and ActivitySource the platform's processes emit, so each host subscribes to all of them
/// with one list. One name per area; the libraries create them with the BCL only.
/// </summary>
public static class TelemetrySources
{
    /// <summary>The host agent's (<c>TrustedLaunch.HostAgent</c>): its spans carry the trace into the service.</summary>
    public const string HostAgent = "TrustedLaunch.HostAgent";

    public static IReadOnlyList<string> Meters { get; } = [AttestationTelemetry.Name, ControlPlaneTelemetry.Name, PostureTelemetry.Name, HostAgent];

    public static IReadOnlyList<string> ActivitySources { get; } = [AttestationTelemetry.Name, HostAgent];

    /// <summary>The <c>service.name</c> resource attribute of each process.</summary>
    public const string ServerServiceName = "tl-server";

    public const string HostServiceName = "tl-host";
}
