using TrustedLaunch.HostSystem;
using TrustedLaunch.Runtime.Acceleration;
using TrustedLaunch.Runtime.Firmware;

namespace TrustedLaunch.Runtime.Qemu;

/// <summary>Everything the QEMU command line is made from, with every path already resolved.</summary>
public sealed record QemuLaunchSpec
{
    public required Accelerator Accelerator { get; init; }

    /// <summary>The UEFI firmware (OVMF); null boots QEMU's default BIOS (SeaBIOS), as a Generation 1 VM.</summary>
    public required OvmfFirmware? Firmware { get; init; }

    /// <summary>The VM's private, writable copy of its variable store (never the VMGS or a shared template); null with SeaBIOS.</summary>
    public required string? VariableStoreCopy { get; init; }

    public required IReadOnlyList<VmDisk> Disks { get; init; }

    public required int MemoryMiB { get; init; }

    public required int Cpus { get; init; }

    /// <summary>The serial console (COM1) goes to this file.</summary>
    public required string ConsoleLog { get; init; }

    /// <summary>The QMP control socket the supervisor drives.</summary>
    public required string QmpSocket { get; init; }

    /// <summary>Host end of the guest agent's virtio-serial port; null leaves the port out.</summary>
    public string? AgentSocket { get; init; }

    /// <summary>The vTPM's control socket (swtpm protocol); null runs the VM without a TPM.</summary>
    public string? VTpmControlSocket { get; init; }

    /// <summary>A user-mode NIC (virtio-net); off unless asked, so a test VM has no network at all.</summary>
    public bool Network { get; init; }

    /// <summary>The VM's NICs as its control plane describes them (MAC, address, host forwards); when set, instead of <see cref="Network"/>.</summary>
    public IReadOnlyList<QemuNic> Nics { get; init; } = [];

    /// <summary>
    /// Expose hardware virtualization (VMX/SVM) to the guest. Off by default, and always off for Trusted Launch (Azure does
    /// not offer nested virtualization with it): QEMU's TCG CPU model would otherwise show SVM, KVM's host model VMX/SVM.
    /// </summary>
    public bool NestedVirtualization { get; init; }

    /// <summary>Exit instead of resetting when the guest reboots or panics (one boot per launch).</summary>
    public bool ExitOnReboot { get; init; } = true;

    /// <summary>QEMU trace events to log with timestamps (diagnosis); null traces nothing.</summary>
    public QemuTrace? Trace { get; init; }

    public string? Name { get; init; }

    /// <summary>SMBIOS system UUID (the VM identity the guest and the event log see).</summary>
    public Guid? Uuid { get; init; }
}

/// <summary>One virtio block disk; the first one is the boot disk.</summary>
public sealed record VmDisk(string Path, DiskImageFormat Format, bool ReadOnly = false);
