using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// <c>platformFaultDomainCount</c> enforced with several registered hosts: a fault domain is a host of its own, instances
/// fill the domains in turn and report theirs (<c>properties.platformFaultDomain</c>, <c>instanceView.platformFaultDomain</c>);
/// more domains than live hosts are refused; max spreading (1) goes round-robin over the hosts.
/// </summary>
public sealed class ScaleSetFaultDomainTests(HostedArmTestService arm) : IClassFixture<HostedArmTestService>
{
    [Fact]
    public async Task FaultDomains_MapToHosts_RefusedBeyondTheHosts_MaxSpreadingRoundRobin()
    {
        var second = new FakeHost(arm, "host2");
        await second.RegisterAsync(vCpus: 256, memoryInMB: 1024 * 1024);
        string group = await arm.CreateGroupAsync();

        // Two live hosts: three fault domains cannot be honoured.
        ArmAnswer refused = await PutAsync(group, "three", Body(capacity: 3, faultDomains: 3));
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidParameter"), (refused.Status, refused.ErrorCode));
        Assert.Equal("properties.platformFaultDomainCount", refused.Error.GetProperty("target").GetString());
        Assert.Contains("needs 3 live hosts, one per fault domain; 2 are live", refused.Error.GetProperty("message").GetString(), StringComparison.Ordinal);

        // Two domains over two hosts: four instances alternate, each domain on its own host.
        ArmAnswer two = await PutAsync(group, "two", Body(capacity: 4, faultDomains: 2));
        Assert.True(two.Status == HttpStatusCode.Created, two.ToString());
        (int Domain, string Host)[] placed = await PlacementAsync(group, "two");
        Assert.Equal([0, 0, 1, 1], placed.Select(p => p.Domain).Order());
        Assert.Equal(2, placed.Select(p => p.Host).Distinct().Count());
        Assert.All(placed.GroupBy(p => p.Domain), domain => Assert.Single(domain.Select(p => p.Host).Distinct()));

        // A third host: three domains now fit, one instance per host.
        var third = new FakeHost(arm, "host3");
        await third.RegisterAsync(vCpus: 256, memoryInMB: 1024 * 1024);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(group, "three", Body(capacity: 3, faultDomains: 3))).Status);
        (int Domain, string Host)[] three = await PlacementAsync(group, "three");
        Assert.Equal([0, 1, 2], three.Select(p => p.Domain).Order());
        Assert.Equal(["host1", "host2", "host3"], three.Select(p => p.Host).Order());

        // Max spreading: round-robin over the three hosts, the domain is the host's.
        Assert.Equal(HttpStatusCode.Created, (await PutAsync(group, "max", Body(capacity: 3, faultDomains: 1))).Status);
        (int Domain, string Host)[] spread = await PlacementAsync(group, "max");
        Assert.Equal(["host1", "host2", "host3"], spread.Select(p => p.Host).Order());
        foreach (FakeHost host in new[] { arm.Host, second, third })
            await host.ConvergeAsync();
        JsonElement view = (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, (await InstanceNamesAsync(group, "three"))[0]) + "/instanceView"))).Body;
        Assert.InRange(view.GetProperty("platformFaultDomain").GetInt32(), 0, 2);

        // A VM of its own cannot name a fault domain.
        JsonObject standalone = ArmTestService.VmBody();
        standalone["properties"]!["platformFaultDomain"] = 1;
        ArmAnswer own = await arm.PutVmAsync(group, "solo", standalone);
        Assert.Equal(("InvalidParameter", "properties.platformFaultDomain"), (own.ErrorCode, own.Error.GetProperty("target").GetString()));
    }

    private async Task<(int Domain, string Host)[]> PlacementAsync(string group, string name)
    {
        var placed = new List<(int, string)>();
        foreach (string instance in await InstanceNamesAsync(group, name))
        {
            JsonElement vm = (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, instance)) + "&$expand=instanceView")).Body.GetProperty("properties");
            int domain = vm.GetProperty("platformFaultDomain").GetInt32();
            Assert.Equal(domain, vm.GetProperty("instanceView").GetProperty("platformFaultDomain").GetInt32());
            placed.Add((domain, await HostOfAsync(vm.GetProperty("vmId").GetString()!)));
        }

        return [.. placed];
    }

    // The host whose assignments carry the VM.
    private async Task<string> HostOfAsync(string vmId)
    {
        foreach (string host in new[] { "host1", "host2", "host3" })
        {
            ArmAnswer assignments = await arm.GetAsync($"/v1/hosts/{host}/assignments");
            if (assignments.Status == HttpStatusCode.OK
                && assignments.Body.GetProperty("virtualMachines").EnumerateArray().Any(v => v.GetProperty("vmId").GetString() == vmId))
                return host;
        }

        throw new InvalidOperationException($"No host has the VM {vmId}.");
    }

    private async Task<string[]> InstanceNamesAsync(string group, string name) =>
        [.. (await arm.GetAsync(ArmTestService.WithApi(ScaleSetPath(group, name) + "/virtualMachines"))).Body.GetProperty("value").EnumerateArray()
            .Select(vm => vm.GetProperty("name").GetString()!)];

    private static JsonObject Body(long capacity, int faultDomains)
    {
        JsonObject body = ScaleSetApiTests.Body(capacity);
        body["properties"]!["platformFaultDomainCount"] = faultDomains;
        return body;
    }

    private string ScaleSetPath(string group, string name) => $"{arm.GroupPath(group)}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}";

    private Task<ArmAnswer> PutAsync(string group, string name, JsonObject body) =>
        arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(ScaleSetPath(group, name)), body);
}
