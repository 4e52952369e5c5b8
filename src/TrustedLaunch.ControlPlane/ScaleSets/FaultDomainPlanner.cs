namespace TrustedLaunch.ControlPlane.ScaleSets;

/// <summary>An instance already placed: its logical fault domain (null for instances made before domains were kept) and host.</summary>
public readonly record struct PlacedInstance(int? FaultDomain, string? HostName);

/// <summary>Where a new instance may go: its logical fault domain and the host it is pinned to (null: placed as any VM).</summary>
public readonly record struct FaultDomainSlot(int FaultDomain, string? HostName);

/// <summary>
/// Fault domains of a flexible scale set, mapped to hosts (a host is this platform's unit of failure). With
/// <c>platformFaultDomainCount</c> N of 2 or 3, a new instance goes to the fault domain with the fewest instances
/// (the lowest on a tie), and each domain lives on one host of its own: the host its instances already run on, else
/// the first live host (registration order) no other domain uses. With N of 1 (Azure's max spreading) instances go
/// round-robin over the live hosts, the one with the fewest of the scale set's instances first, and an instance's fault
/// domain is its host's position among the live hosts. No I/O.
/// </summary>
public static class FaultDomainPlanner
{
    /// <summary>
    /// The slots to try in order (the next when a host has no room). Empty when the domains need more live hosts than
    /// there are: N domains need N hosts (Azure refuses a count its region cannot honour; it never co-locates domains).
    /// </summary>
    public static IReadOnlyList<FaultDomainSlot> Slots(int domainCount, IReadOnlyList<string> liveHosts, IReadOnlyList<PlacedInstance> placed)
    {
        ArgumentNullException.ThrowIfNull(liveHosts);
        ArgumentNullException.ThrowIfNull(placed);
        if (liveHosts.Count == 0)
            return [new FaultDomainSlot(0, null)]; // no host yet: the instance waits for one, as any VM does
        if (domainCount <= 1)
        {
            return [.. liveHosts
                .Select((host, index) => (host, index, count: placed.Count(p => Same(p.HostName, host))))
                .OrderBy(h => h.count).ThenBy(h => h.index)
                .Select(h => new FaultDomainSlot(h.index, h.host))];
        }

        int domain = Enumerable.Range(0, domainCount).OrderBy(d => placed.Count(p => p.FaultDomain == d)).ThenBy(d => d).First();
        string? own = placed.Where(p => p.FaultDomain == domain && p.HostName is not null && liveHosts.Any(h => Same(h, p.HostName)))
            .Select(p => p.HostName).FirstOrDefault();
        if (own is not null)
            return [new FaultDomainSlot(domain, own)];
        string?[] others = [.. placed.Where(p => p.FaultDomain != domain).Select(p => p.HostName)];
        string[] free = [.. liveHosts.Where(h => !others.Any(o => Same(o, h)))];
        // Hosts no other domain holds; while fewer live hosts than domains exist, refuse rather than co-locate two domains.
        return liveHosts.Count < domainCount || free.Length == 0 ? [] : [.. free.Select(h => new FaultDomainSlot(domain, h))];
    }

    private static bool Same(string? a, string? b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
