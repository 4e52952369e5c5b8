using TrustedLaunch.HostAgent.Vms;

namespace TrustedLaunch.HostAgent.Tests.Vms;

/// <summary>The guest kernel's last reboot line (kernel/reboot.c) tells a reboot from a power-off; its absence is no reboot.</summary>
public sealed class KernelRestartLineTests
{
    [Theory]
    [InlineData(true, "[   21.402512] reboot: Restarting system")]
    [InlineData(true, "[    9.1] reboot: Restarting system with command 'now'")]
    [InlineData(false, "[   21.402512] reboot: Power down")]
    [InlineData(false, "[   21.402512] reboot: System halted")]
    [InlineData(false, "TL-GUEST: booted")]
    public void LastRebootLine_Decides(bool restart, string last) =>
        Assert.Equal(restart, KernelRestartLine.EndedInRestart(["BdsDxe: starting Boot0001", "[    0.000000] Linux version 6.1.0", last]));

    [Fact]
    public void ThePowerOffAfterARestartLine_IsAPowerOff_AndNoLineIsNoRestart()
    {
        Assert.False(KernelRestartLine.EndedInRestart(["[ 1.0] reboot: Restarting system", "[ 2.0] reboot: Power down"]));
        Assert.True(KernelRestartLine.EndedInRestart(["[ 1.0] reboot: Power down", "[ 2.0] reboot: Restarting system"]));
        Assert.False(KernelRestartLine.EndedInRestart([]));
    }
}
