using TrustedLaunch.HostSystem.Processes;
using TrustedLaunch.Testing;

namespace TrustedLaunch.HostSystem.Tests.Processes;

/// <summary>
/// Detached processes (the VMs a host agent supervises): started in a session of their own, not our children (so they
/// outlive us), named by pid and start time, adopted again by a new watcher, and stopped by signal.
/// </summary>
[IntegrationTest]
public sealed class DetachedProcessTests
{
    [Fact]
    public async Task Start_SleepDetached_NotOurChild_AdoptedWatcherSeesItsEnd()
    {
        string log = Path.Combine(RepositoryPaths.NewTempDirectory("tl-detached"), "sleep.log");
        using DetachedProcess started = DetachedProcess.Start("/bin/sleep", ["300"], log);
        string stat = File.ReadAllText($"/proc/{started.Id}/stat");
        int parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);

        using DetachedProcess adopted = DetachedProcess.Adopt(started.Identity, "sleep", log);
        bool runningBefore = !adopted.HasExited;
        await adopted.StopAsync(TimeSpan.FromSeconds(5));

        Assert.NotEqual(Environment.ProcessId, parent); // reparented to init (or a subreaper): it outlives us
        Assert.True(runningBefore);
        Assert.True(adopted.HasExited);
        Assert.Null(await adopted.Ended);
        await started.Ended.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(started.Identity.IsRunning);
    }

    [Fact]
    public async Task Adopt_ReusedPid_TreatedAsGone()
    {
        // Our own pid with another start time: the identity is not this process.
        ProcessIdentity me = ProcessIdentity.Of(Environment.ProcessId)!.Value;
        using DetachedProcess stranger = DetachedProcess.Adopt(me with { StartTicks = me.StartTicks + 1 }, "stranger", null);

        Assert.True(me.IsRunning);
        await stranger.Ended.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Start_ProgramFailsAtOnce_EndsAndItsOutputIsInTheLog()
    {
        string log = Path.Combine(RepositoryPaths.NewTempDirectory("tl-detached"), "fail.log");
        using DetachedProcess failing = DetachedProcess.Start("/bin/sh", ["-c", "echo refused >&2; exit 3"], log);

        await failing.Ended.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Contains("refused", failing.StandardErrorTail, StringComparison.Ordinal);
    }
}
