using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Runtime.Acceleration;
using TrustedLaunch.Runtime.Qemu;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Runtime.Tests.Qemu;

/// <summary>
/// A running VM's slirp host forwards changed through QMP (<c>human-monitor-command</c> hostfwd_add / hostfwd_remove):
/// what is in place is read back from the launch's arguments, and against Debian's QEMU a new forward listens at once
/// and a removed one is refused.
/// </summary>
public sealed class SlirpHostForwardsTests
{
    [Fact]
    public void FromArguments_ReadsEachNetdevsForwards()
    {
        QemuNic first = new("00-0D-3A-AB-CD-EF", [new QemuHostForward("127.0.0.1", 40022, 22), new QemuHostForward("0.0.0.0", 40080, 80)]) { Network = "10.1.0.0/24", GuestAddress = "10.1.0.4" };
        QemuNic second = new("00-0D-3A-AB-CD-F0", []);
        IReadOnlyList<string> arguments = QemuCommandLine.Build(new QemuLaunchSpec
        {
            Accelerator = Accelerator.Tcg, Firmware = null, VariableStoreCopy = null, Disks = [new VmDisk("/images/d.qcow2", DiskImageFormat.Qcow2)],
            MemoryMiB = 512, Cpus = 1, ConsoleLog = "/run/x/console.log", QmpSocket = "/run/x/qmp.sock", Nics = [first, second],
        });

        SlirpHostForwards forwards = SlirpHostForwards.FromArguments(arguments);

        Assert.Equal(first.HostForwards.ToHashSet(), forwards.Of(0).ToHashSet());
        Assert.Empty(forwards.Of(1));
        Assert.Empty(forwards.Of(2));
    }

    [Fact]
    [IntegrationTest]
    public async Task SetAsync_AddedForwardListens_RemovedOneIsRefused()
    {
        int kept = FreePort(), added = FreePort();
        string folder = Directory.CreateTempSubdirectory("tl-hostfwd-").FullName;
        string socket = Path.Combine(folder, "qmp.sock");
        // No guest is needed for slirp's forwards: QEMU with no machine still runs the netdev and its listeners.
        using var qemu = Process.Start(new ProcessStartInfo("qemu-system-x86_64")
        {
            ArgumentList = { "-machine", "none", "-nodefaults", "-display", "none", "-netdev", $"user,id=net0,hostfwd=tcp:127.0.0.1:{kept}-:22", "-qmp", $"unix:{socket},server=on,wait=off" },
            RedirectStandardError = true,
        })!;
        try
        {
            await using QmpClient qmp = await QmpClient.ConnectAsync(socket, TimeSpan.FromSeconds(30), () => qemu.HasExited, CancellationToken.None);
            SlirpHostForwards forwards = SlirpHostForwards.FromArguments(["-netdev", $"user,id=net0,hostfwd=tcp:127.0.0.1:{kept}-:22"]);
            Assert.True(await ConnectsAsync(kept));
            Assert.False(await ConnectsAsync(added));

            Assert.True(await forwards.SetAsync(qmp, 0, [new QemuHostForward("127.0.0.1", kept, 22), new QemuHostForward("127.0.0.1", added, 80)], CancellationToken.None));
            Assert.True(await ConnectsAsync(added));
            Assert.False(await forwards.SetAsync(qmp, 0, [new QemuHostForward("127.0.0.1", kept, 22), new QemuHostForward("127.0.0.1", added, 80)], CancellationToken.None));

            Assert.True(await forwards.SetAsync(qmp, 0, [new QemuHostForward("127.0.0.1", added, 80)], CancellationToken.None));
            Assert.False(await ConnectsAsync(kept));
            Assert.True(await ConnectsAsync(added));
            Assert.False(await forwards.SetAsync(qmp, 1, [new QemuHostForward("127.0.0.1", kept, 22)], CancellationToken.None)); // no such NIC

            // A port another listener holds: QEMU refuses, said plainly; nothing is recorded as in place.
            using var holder = new TcpListener(IPAddress.Loopback, 0);
            holder.Start();
            int taken = ((IPEndPoint)holder.LocalEndpoint).Port;
            VmRuntimeException refused = await Assert.ThrowsAsync<VmRuntimeException>(() =>
                forwards.SetAsync(qmp, 0, [new QemuHostForward("127.0.0.1", added, 80), new QemuHostForward("127.0.0.1", taken, 443)], CancellationToken.None));
            Assert.Contains($"did not add the host forward tcp:127.0.0.1:{taken}-:443 to net0", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(forwards.Of(0), f => f.HostPort == taken);
        }
        finally
        {
            qemu.Kill();
            await qemu.WaitForExitAsync();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task<bool> ConnectsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
