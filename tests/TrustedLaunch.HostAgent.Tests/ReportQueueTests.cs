using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.HostAgent.Http;

namespace TrustedLaunch.HostAgent.Tests;

/// <summary>Reports survive a control plane that cannot be reached: kept, in order, and sent when it answers again.</summary>
public sealed class ReportQueueTests
{
    [Fact]
    public async Task Run_SendFailsThenSucceeds_EveryReportArrivesOnceInOrder()
    {
        using var queue = new ReportQueue();
        var delivered = new List<long>();
        int attempts = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var done = new TaskCompletionSource();
        Task running = queue.RunAsync((batch, _) =>
        {
            if (++attempts == 1)
                throw new ControlPlaneCallException(null, null, "unreachable");
            delivered.AddRange(batch.Select(r => r.ObservedVersion));
            if (delivered.Count == 3)
                done.TrySetResult();
            return Task.CompletedTask;
        }, TimeSpan.FromMilliseconds(20), stop.Token);

        queue.Post(new VmReport { VmId = Guid.NewGuid(), ObservedVersion = 1, PowerState = "Starting" });
        queue.Post(new VmReport { VmId = Guid.NewGuid(), ObservedVersion = 2, PowerState = "Running" });
        queue.Post(new VmReport { VmId = Guid.NewGuid(), ObservedVersion = 3, PowerState = "Stopped" });
        await done.Task.WaitAsync(stop.Token);
        await stop.CancelAsync();
        try
        {
            await running; // ends when stopped (between batches or in a wait)
        }
        catch (OperationCanceledException)
        {
        }

        Assert.Equal([1L, 2L, 3L], delivered);
        Assert.True(attempts >= 2);
    }
}
