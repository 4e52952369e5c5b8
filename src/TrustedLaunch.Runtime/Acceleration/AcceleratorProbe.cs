using System.Runtime.InteropServices;

namespace TrustedLaunch.Runtime.Acceleration;

/// <summary>How QEMU executes guest code.</summary>
public enum Accelerator
{
    /// <summary>Hardware virtualization through /dev/kvm.</summary>
    Kvm,

    /// <summary>QEMU's Tiny Code Generator: software emulation, slow but available everywhere.</summary>
    Tcg,
}

/// <summary>The probe's answer and why: shown to the user so "slow because TCG" is never a mystery.</summary>
public sealed record AcceleratorChoice(Accelerator Accelerator, string Reason);

/// <summary>
/// Detects KVM by really using it: opens /dev/kvm read-write and asks KVM_GET_API_VERSION, which must answer 12
/// (linux/kvm.h: KVM_API_VERSION), then KVM_CHECK_EXTENSION(KVM_CAP_X86_SMM): the Secure Boot firmware
/// (OVMF_CODE*.secboot.fd) protects its variable store in System Management Mode, and a KVM without SMM (a kernel
/// built without CONFIG_KVM_SMM, some nested hypervisors) makes QEMU refuse <c>-machine smm=on</c>. A device node that
/// exists but cannot be opened (permissions, a container without the device cgroup rule) or answers otherwise means TCG.
/// </summary>
public static class AcceleratorProbe
{
    public const string KvmDevice = "/dev/kvm";

    // linux/kvm.h: #define KVM_GET_API_VERSION _IO(KVMIO, 0x00), KVMIO = 0xAE → 0xAE00.
    private const nuint KvmGetApiVersion = 0xAE00;

    // linux/kvm.h: #define KVM_CHECK_EXTENSION _IO(KVMIO, 0x03) → 0xAE03; its argument is a capability number.
    private const nuint KvmCheckExtension = 0xAE03;

    // linux/kvm.h: #define KVM_CAP_X86_SMM 117.
    private const nint KvmCapX86Smm = 117;

    // linux/kvm.h: #define KVM_API_VERSION 12 (stable since Linux 2.6.22).
    private const int ExpectedApiVersion = 12;

    public static AcceleratorChoice Detect() => Detect(KvmDevice);

    /// <summary>Probes <paramref name="devicePath"/> (a parameter so tests can point it at a non-KVM node).</summary>
    public static AcceleratorChoice Detect(string devicePath)
    {
        if (!OperatingSystem.IsLinux())
            return new(Accelerator.Tcg, "not Linux: KVM unavailable");
        if (!File.Exists(devicePath))
            return new(Accelerator.Tcg, $"{devicePath} does not exist (no KVM module or not exposed to this machine)");

        int fd = LinuxInterop.Open(devicePath, LinuxInterop.OpenReadWrite | LinuxInterop.OpenCloseOnExec);
        if (fd < 0)
            return new(Accelerator.Tcg, $"{devicePath} cannot be opened: {Marshal.GetLastPInvokeErrorMessage()}");
        try
        {
            int version = LinuxInterop.IoControl(fd, KvmGetApiVersion, 0);
            if (version < 0)
                return new(Accelerator.Tcg, $"KVM_GET_API_VERSION on {devicePath} failed: {Marshal.GetLastPInvokeErrorMessage()}");
            if (version != ExpectedApiVersion)
                return new(Accelerator.Tcg, $"{devicePath} answers KVM API version {version}, expected {ExpectedApiVersion}");
            int smm = LinuxInterop.IoControl(fd, KvmCheckExtension, KvmCapX86Smm);
            return smm > 0
                ? new(Accelerator.Kvm, $"{devicePath} answers KVM API version {version}, with System Management Mode")
                : new(Accelerator.Tcg, $"{devicePath} answers KVM API version {version} but without System Management Mode (KVM_CAP_X86_SMM), which the Secure Boot firmware needs");
        }
        finally
        {
            _ = LinuxInterop.Close(fd);
        }
    }
}
