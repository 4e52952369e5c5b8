using TrustedLaunch.HostSystem;
using TrustedLaunch.Runtime.Acceleration;
using TrustedLaunch.Runtime.Qemu;

namespace TrustedLaunch.Runtime.Tests.Qemu;

/// <summary>The network part of QEMU's command line: one slirp netdev and virtio-net device per NIC, with its MAC, address and host forwards.</summary>
public sealed class QemuNicCommandLineTests
{
    private static QemuLaunchSpec Spec(params QemuNic[] nics) => new()
    {
        Accelerator = Accelerator.Tcg,
        Firmware = null,
        VariableStoreCopy = null,
        Disks = [new VmDisk("/images/d.qcow2", DiskImageFormat.Qcow2)],
        MemoryMiB = 512,
        Cpus = 1,
        ConsoleLog = "/run/x/console.log",
        QmpSocket = "/run/x/qmp.sock",
        Nics = nics,
    };

    private static string Line(QemuLaunchSpec spec) => string.Join(' ', QemuCommandLine.Build(spec));

    [Fact]
    public void Build_Nic_UserNetdevWithAddressMacAndForwards_InsteadOfNoNic()
    {
        string line = Line(Spec(new QemuNic("00-0D-3A-AB-CD-EF", [new QemuHostForward("127.0.0.1", 40022, 22), new QemuHostForward("0.0.0.0", 40080, 80)])
        {
            Network = "10.1.0.0/24",
            GuestAddress = "10.1.0.4",
        }));
        Assert.Contains("-netdev user,id=net0,net=10.1.0.0/24,host=10.1.0.1,dns=10.1.0.3,dhcpstart=10.1.0.4,hostfwd=tcp:127.0.0.1:40022-:22,hostfwd=tcp:0.0.0.0:40080-:80", line, StringComparison.Ordinal);
        Assert.Contains("-device virtio-net-pci,netdev=net0,mac=00:0d:3a:ab:cd:ef,romfile=", line, StringComparison.Ordinal);
        Assert.DoesNotContain("-nic none", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_TwoNics_TwoNetdevs_NoNics_NoNetwork()
    {
        string line = Line(Spec(new QemuNic("00-0D-3A-00-00-01", []), new QemuNic("00-0D-3A-00-00-02", [])));
        Assert.Contains("-netdev user,id=net0 -device virtio-net-pci,netdev=net0,mac=00:0d:3a:00:00:01,romfile= -netdev user,id=net1", line, StringComparison.Ordinal);
        Assert.Contains("-nic none", Line(Spec()), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00-0D-3A-AB-CD", null, null, "127.0.0.1", 40022, "MAC")]
    [InlineData("00-0D-3A-AB-CD-EF", "10.1.0.0/30", null, "127.0.0.1", 40022, "10.1.0.0/30")]
    [InlineData("00-0D-3A-AB-CD-EF", "10.1.0.0/24", "10.2.0.4", "127.0.0.1", 40022, "10.2.0.4")]
    [InlineData("00-0D-3A-AB-CD-EF", null, null, "localhost,x=1", 40022, "host forward")]
    [InlineData("00-0D-3A-AB-CD-EF", null, null, "127.0.0.1", 70000, "host forward")]
    public void Build_BadNic_RefusedNamingIt(string mac, string? network, string? guest, string hostAddress, int hostPort, string named)
    {
        var refused = Assert.Throws<VmRuntimeException>(() => QemuCommandLine.Build(Spec(new QemuNic(mac, [new QemuHostForward(hostAddress, hostPort, 22)])
        {
            Network = network,
            GuestAddress = guest,
        })));
        Assert.Equal(VmRuntimeFailure.BadInput, refused.Failure);
        Assert.Contains(named, refused.Message, StringComparison.Ordinal);
    }
}
