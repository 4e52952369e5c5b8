using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TrustedLaunch.Server.Telemetry;
using TrustedLaunch.Server.Tests.ControlPlane;

namespace TrustedLaunch.Server.Tests.Telemetry;

/// <summary>
/// The <c>tl.vms</c> gauge counts the control plane's VMs by the power state their instance view shows. Read with a
/// <see cref="MeterListener"/> bound to this service's own meter factory, so other services of the test process
/// cannot blur the census.
/// </summary>
public sealed class VmPowerStateMetricsTests(ArmTestService arm) : IClassFixture<ArmTestService>
{
    [Fact]
    public async Task Census_TwoUnplacedVms_CountedAsStarting()
    {
        Dictionary<string, int> before = await CensusAsync();
        string group = await arm.CreateGroupAsync();
        Assert.Equal(HttpStatusCode.Created, (await arm.PutVmAsync(group, "m1", ArmTestService.VmBody())).Status);
        Assert.Equal(HttpStatusCode.Created, (await arm.PutVmAsync(group, "m2", ArmTestService.VmBody())).Status);

        Dictionary<string, int> after = await CensusAsync();

        // No host is registered: both wait for one, converging to running, so the instance view shows starting.
        Assert.Equal(before["starting"] + 2, after["starting"]);
        Assert.Equal(7, after.Count); // every power state, zeros included
        Assert.Equal(before["running"], after["running"]);
    }

    private async Task<Dictionary<string, int>> CensusAsync()
    {
        IServiceProvider services = arm.Service.App.Services;
        VmPowerStateSampler sampler = services.GetServices<IHostedService>().OfType<VmPowerStateSampler>().Single();
        await sampler.SampleOnceAsync(CancellationToken.None);

        IMeterFactory factory = services.GetRequiredService<IMeterFactory>();
        var census = new Dictionary<string, int>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == factory && instrument.Meter.Name == ControlPlaneTelemetry.Name && instrument.Name == "tl.vms")
                    l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "power_state")
                    census[(string)tag.Value!] = value;
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return census;
    }
}
