using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.Portal.Data;

namespace TrustedLaunch.Portal.Tests.Data;

public sealed class VmTableTests
{
    private static VmRow Row(string name, string group, PowerState power, string? verdict) => new(group, name, Guid.NewGuid(), "local", "Standard_B1s",
        power, ProvisioningState.Succeeded, "TrustedLaunch", true, true,
        verdict is null ? null : new AttestationSummary(verdict, null, null, null, DateTimeOffset.UnixEpoch), "host1");

    private static readonly VmRow[] Fleet =
    [
        Row("web2", "prod", PowerState.Running, "pass"),
        Row("web1", "prod", PowerState.Running, "fail"),
        Row("db1", "data", PowerState.Stopped, null),
    ];

    [Fact]
    public void Apply_FiltersByTextPowerAndHealth_CaseInsensitive()
    {
        Assert.Equal(["web1", "web2"], VmTable.Apply(Fleet, new VmQuery("PROD", null, null, "name", false, 1)).Page.Select(r => r.Name));
        Assert.Equal(["db1"], VmTable.Apply(Fleet, new VmQuery(null, "stopped", null, "name", false, 1)).Page.Select(r => r.Name));
        Assert.Equal(["web1"], VmTable.Apply(Fleet, new VmQuery(null, null, "fail", "name", false, 1)).Page.Select(r => r.Name));
        Assert.Equal(["db1"], VmTable.Apply(Fleet, new VmQuery(null, null, "none", "name", false, 1)).Page.Select(r => r.Name));
    }

    [Fact]
    public void Apply_SortsByColumnBothWays_ThenByName()
    {
        Assert.Equal(["db1", "web1", "web2"], VmTable.Apply(Fleet, new VmQuery(null, null, null, "name", false, 1)).Page.Select(r => r.Name));
        Assert.Equal(["web2", "web1", "db1"], VmTable.Apply(Fleet, new VmQuery(null, null, null, "name", true, 1)).Page.Select(r => r.Name));
        Assert.Equal(["web1", "db1", "web2"], VmTable.Apply(Fleet, new VmQuery(null, null, null, "attestation", false, 1)).Page.Select(r => r.Name));
    }

    [Fact]
    public void Apply_PagesByPageSize_TotalIsTheFilteredCount()
    {
        VmRow[] many = Enumerable.Range(0, 250).Select(i => Row($"vm{i:000}", "g", PowerState.Running, "pass")).ToArray();

        (IReadOnlyList<VmRow> page, int total) = VmTable.Apply(many, new VmQuery(null, null, null, "name", false, 3));

        Assert.Equal(250, total);
        Assert.Equal(50, page.Count);
        Assert.Equal("vm200", page[0].Name);
    }
}
