using TrustedLaunch.ControlPlane.ScaleSets;

namespace TrustedLaunch.ControlPlane.Tests.ScaleSets;

/// <summary>Fault domains mapped to hosts: balanced domains, one host per domain, max spreading round-robin.</summary>
public sealed class FaultDomainPlannerTests
{
    private static readonly string[] Hosts = ["h1", "h2", "h3"];

    [Fact]
    public void ThreeDomains_FillInTurn_EachOnAHostOfItsOwn()
    {
        var placed = new List<PlacedInstance>();
        for (int i = 0; i < 6; i++)
        {
            FaultDomainSlot slot = FaultDomainPlanner.Slots(3, Hosts, placed)[0];
            placed.Add(new PlacedInstance(slot.FaultDomain, slot.HostName));
        }

        Assert.Equal([0, 1, 2, 0, 1, 2], placed.Select(p => p.FaultDomain!.Value));
        Assert.Equal(["h1", "h2", "h3", "h1", "h2", "h3"], placed.Select(p => p.HostName!));
    }

    [Fact]
    public void Domain_KeepsItsHost_AndNeverTakesAnotherDomainsHost()
    {
        // Domain 0 lives on h3; domain 1 is empty: it takes the first host no other domain holds.
        PlacedInstance[] placed = [new(0, "h3"), new(0, "h3")];

        Assert.Equal([new FaultDomainSlot(1, "h1"), new FaultDomainSlot(1, "h2")], FaultDomainPlanner.Slots(2, Hosts, placed));
        Assert.Equal([new FaultDomainSlot(0, "h3")], FaultDomainPlanner.Slots(2, Hosts, [new(0, "h3"), new(1, "h1")]));
    }

    [Fact]
    public void FewerHostsThanDomains_NoSlot()
    {
        Assert.Empty(FaultDomainPlanner.Slots(3, ["h1", "h2"], []));
        Assert.Empty(FaultDomainPlanner.Slots(2, ["h1"], [new(0, "h1")]));
        // Domain 1's host is gone: it moves to a live host no other domain holds.
        Assert.Equal([new FaultDomainSlot(1, "h2")], FaultDomainPlanner.Slots(2, ["h1", "h2"], [new(0, "h1"), new(0, "h1"), new(1, "gone")]));
    }

    [Fact]
    public void MaxSpreading_RoundRobinOverTheHosts_FewestFirst()
    {
        IReadOnlyList<FaultDomainSlot> slots = FaultDomainPlanner.Slots(1, Hosts, [new(0, "h1"), new(1, "h2"), new(0, "h1")]);

        Assert.Equal([new FaultDomainSlot(2, "h3"), new FaultDomainSlot(1, "h2"), new FaultDomainSlot(0, "h1")], slots);
        Assert.Equal([new FaultDomainSlot(0, null)], FaultDomainPlanner.Slots(1, [], []));
    }
}
