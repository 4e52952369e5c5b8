using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.Portal.Data;

namespace TrustedLaunch.Portal.Tests.Data;

public sealed class ArmReadingTests
{
    [Theory]
    [InlineData("/subscriptions/s/resourceGroups/web/providers/Microsoft.Compute/virtualMachines/vm1", "resourceGroups", "web")]
    [InlineData("/subscriptions/s/resourcegroups/Web/providers/Microsoft.Compute/virtualMachines/vm1", "resourceGroups", "Web")]
    [InlineData("/subscriptions/s/providers/Microsoft.Security/secureScores/ascScore", "resourceGroups", null)]
    [InlineData(null, "resourceGroups", null)]
    [InlineData("/subscriptions/s/resourceGroups", "resourceGroups", null)]
    public void Segment_TheOneAfterItsKeyWithoutCase(string? id, string key, string? expected) =>
        Assert.Equal(expected, ArmIds.Segment(id, key));

    [Theory]
    [InlineData("PT1.5S", "1.5 s")]
    [InlineData("PT0S", "0.0 s")]
    [InlineData("PT2M5S", "2 min 5 s")]
    [InlineData("PT1H3M", "1 h 3 min")]
    [InlineData("not a duration", "not a duration")]
    [InlineData(null, "")]
    public void Duration_AsPeopleReadIt_ElseAsGiven(string? iso, string expected) =>
        Assert.Equal(expected, ArmDurations.Text(iso));

    [Fact]
    public void VmFingerprints_ChangeWithPowerOrAttestation_NotWithWhatDoesNotChangeByItself()
    {
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        VmRow row = new("g", "vm1", Guid.NewGuid(), "local", "Standard_B1s", PowerState.Running, ProvisioningState.Succeeded, "TrustedLaunch", true, true,
            new AttestationSummary("pass", null, null, null, at), "host1");
        string Of(VmRow r) => PortalLiveEndpoints.Fingerprints([r])["G/VM1"];
        Assert.Equal(Of(row), Of(row with { Size = "Standard_B2s" }));
        Assert.NotEqual(Of(row), Of(row with { Power = PowerState.Stopped }));
        Assert.NotEqual(Of(row), Of(row with { Attestation = row.Attestation! with { Verdict = "fail" } }));
        Assert.NotEqual(Of(row), Of(row with { Attestation = row.Attestation! with { At = at.AddMinutes(1) } }));
        Assert.NotEqual(Of(row), Of(row with { Attestation = null }));
    }
}
