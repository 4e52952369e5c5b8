using TrustedLaunch.Runtime.Acceleration;
using TrustedLaunch.Testing;

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

    [IntegrationTest]
    [Fact]
    public void Detect_ThisMachine_AgreesWithQemu()
    {
        // QEMU is the oracle: KVM is chosen exactly when QEMU can run a Trusted Launch machine (q35, SMM, the CPU the
        // runtime asks for) on it. A machine whose /dev/kvm lacks SMM made every boot abort before the probe asked.
        if (!File.Exists(AcceleratorProbe.KvmDevice))
            return;
        AcceleratorChoice choice = AcceleratorProbe.Detect();
        var start = new System.Diagnostics.ProcessStartInfo("qemu-system-x86_64")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (string a in new[] { "-accel", "kvm", "-cpu", "host", "-machine", "q35,smm=on", "-display", "none", "-nodefaults", "-monitor", "none", "-S" })
            start.ArgumentList.Add(a);
        using var qemu = System.Diagnostics.Process.Start(start)!;
        bool exited = qemu.WaitForExit(TimeSpan.FromSeconds(3));
        string stderr = exited ? qemu.StandardError.ReadToEnd() : "";
        if (!exited)
        {
            qemu.Kill();
            qemu.WaitForExit();
        }

        Assert.True((choice.Accelerator == Accelerator.Kvm) == !exited,
            $"probe chose {choice.Accelerator} ({choice.Reason}); QEMU with KVM {(exited ? $"exited: {stderr.Trim()}" : "ran")}");
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
