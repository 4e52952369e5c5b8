namespace TrustedLaunch.ControlPlane;

/// <summary>Settings of the control plane; immutable once the service is built.</summary>
public sealed record ControlPlaneOptions
{
    /// <summary>
    /// The locations resources may be created in (normalised: <c>westus</c>). Null (default): any location name is
    /// accepted, so templates written for any Azure region work unchanged; a location is a label on a single-site
    /// platform, not a placement constraint.
    /// </summary>
    public IReadOnlyList<string>? Locations { get; init; }

    /// <summary>The location named in messages that need one when the request has none.</summary>
    public string DefaultLocation { get; init; } = "local";

    /// <summary>Items per page of a list (ARM's <c>nextLink</c> leads to the next).</summary>
    public int PageSize { get; init; } = 1000;

    /// <summary>A host not heard from for this long is lost: its VMs show PowerState/unknown and nothing new is placed on it.</summary>
    public TimeSpan HostLivenessWindow { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>The longest a host's long-poll is held open.</summary>
    public TimeSpan MaxLongPoll { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>vCPUs placed per host vCPU (1: no overcommit). Memory is never overcommitted.</summary>
    public double CpuOvercommitRatio { get; init; } = 1.0;

    /// <summary>The <c>Retry-After</c> of long-running operations, in seconds (ARM: 10 s to 10 min).</summary>
    public int RetryAfterSeconds { get; init; } = 10;

    /// <summary>
    /// The host ports a NIC's forwarded ports (NSG inbound Allow rules for TCP) are given from; each VM's ports are
    /// derived from its id and unique among the VMs of its host.
    /// </summary>
    public int HostForwardFirstPort { get; init; } = 40000;

    public int HostForwardPortCount { get; init; } = 10000;

    /// <summary>The display name of the subscription created at first start.</summary>
    public string DefaultSubscriptionName { get; init; } = "TrustedLaunch";

    public bool IsLocationAllowed(string normalizedLocation) =>
        Locations is null || Locations.Contains(normalizedLocation, StringComparer.OrdinalIgnoreCase);

    public IEnumerable<string> KnownLocations(string? requested) => Locations ?? [requested ?? DefaultLocation];
}
