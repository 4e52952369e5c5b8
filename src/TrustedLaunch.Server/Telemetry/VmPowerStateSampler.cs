using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Telemetry;

/// <summary>
/// Counts VMs by displayed power state every <see cref="TelemetryOptions.PowerStateInterval"/> for the <c>tl.vms</c> gauge:
/// one paged walk of every subscription's VMs (the same rule as the instance view: a lost host's VMs are unknown). A
/// scrape reads the last census and never touches the database.
/// </summary>
internal sealed partial class VmPowerStateSampler(
    ISubscriptionStore subscriptions,
    IVirtualMachineStore vms,
    IHostStore hosts,
    Placement placement,
    ControlPlaneTelemetry telemetry,
    TelemetryOptions options,
    TimeProvider time,
    ILogger<VmPowerStateSampler> logger) : BackgroundService
{
    private const int PageSize = 500;

    public async Task SampleOnceAsync(CancellationToken cancellationToken)
    {
        Dictionary<PowerState, int> census = Enum.GetValues<PowerState>().ToDictionary(state => state, _ => 0);
        Dictionary<string, bool> alive = (await hosts.ListAsync(cancellationToken)).ToDictionary(h => h.Name, placement.IsAlive, StringComparer.Ordinal);
        foreach (SubscriptionRecord subscription in await subscriptions.ListAsync(cancellationToken))
        {
            string? token = null;
            do
            {
                Page<VirtualMachineRecord> page = await vms.ListAsync(subscription.SubscriptionId, null, token, PageSize, cancellationToken);
                foreach (VirtualMachineRecord vm in page.Items)
                {
                    bool? hostAlive = vm.HostName is null ? null : alive.GetValueOrDefault(vm.HostName);
                    census[VirtualMachineViews.DisplayedPower(vm, hostAlive)]++;
                }

                token = page.ContinuationToken;
            }
            while (token is not null);
        }

        telemetry.ObservePowerStates(census);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.PowerStateInterval, time);
        do
        {
            try
            {
                await SampleOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // a census that fails (database busy) is retried at the next tick; the service goes on
            catch (Exception e)
#pragma warning restore CA1031
            {
                SampleFailed(logger, e);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(6180, LogLevel.Warning, "Counting VMs by power state failed; the tl.vms gauge keeps the last census")]
    private static partial void SampleFailed(ILogger logger, Exception exception);
}
