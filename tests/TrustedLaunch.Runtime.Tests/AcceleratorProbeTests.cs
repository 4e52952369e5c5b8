using TrustedLaunch.Runtime.Acceleration;

namespace TrustedLaunch.Runtime.Tests;

public sealed class AcceleratorProbeTests
{
    [Fact]
    public void Detect_DeviceThatIsNotKvm_FallsBackToTcgSayingWhy()
    {
        // /dev/null opens but has no KVM ioctls: the probe must ask, not trust the node's existence.
        AcceleratorChoice choice = AcceleratorProbe.Detect("/dev/null");
        Assert.Equal(Accelerator.Tcg, choice.Accelerator);
        Assert.Contains("KVM_GET_API_VERSION", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Detect_MissingDevice_Tcg()
    {
        Assert.Equal(Accelerator.Tcg, AcceleratorProbe.Detect("/dev/no-such-kvm").Accelerator);
    }

    [Fact]
    public void Detect_ThisMachine_AgreesWithTheDeviceNode()
    {
        AcceleratorChoice choice = AcceleratorProbe.Detect();
        if (!File.Exists("/dev/kvm"))
            Assert.Equal(Accelerator.Tcg, choice.Accelerator);
        Assert.False(string.IsNullOrEmpty(choice.Reason));
    }
}
