using TrustedLaunch.HostSystem;
using TrustedLaunch.Runtime.Acceleration;
using TrustedLaunch.Runtime.Qemu;
using TrustedLaunch.Runtime.VTpm;
using TrustedLaunch.Storage;

namespace TrustedLaunch.Runtime;

/// <summary>The firmware a VM boots: UEFI (OVMF, Generation 2) or BIOS (SeaBIOS, Generation 1).</summary>
public enum BootFirmware
{
    /// <summary>OVMF with SMM and a per-VM variable store: Secure Boot, measured boot (Azure's Generation 2).</summary>
    Uefi,

    /// <summary>QEMU's default SeaBIOS, booting the disk's MBR: no variable store, no Secure Boot (Azure's Generation 1).</summary>
    Bios,
}

/// <summary>One VM to launch. Plain data: the CLI, the host agent and tests fill it in.</summary>
public sealed record VirtualMachineOptions
{
    /// <summary>The boot disk (raw or qcow2).</summary>
    public required string Disk { get; init; }

    /// <summary>The disk's format; null reads it from the file's magic.</summary>
    public DiskImageFormat? DiskFormat { get; init; }

    /// <summary>UEFI (default) or BIOS.</summary>
    public BootFirmware Firmware { get; init; } = BootFirmware.Uefi;

    /// <summary>
    /// Where the UEFI variable store lives between boots (a file, or a VMGS entry). It is restored into a private
    /// temporary flash file that QEMU writes, and persisted back (atomically, by the store) after QEMU exits. Required
    /// with UEFI firmware; a BIOS VM has none.
    /// </summary>
    public INonVolatileStore? VariableStore { get; init; }

    /// <summary>
    /// Null (default): the VM's sockets and flash copy live in a temporary folder removed when the VM ends, and QEMU and
    /// the vTPM die with this process. A folder: the VM outlives this process (QEMU and the vTPM run detached, their
    /// identities recorded in <c>run.json</c> there) and a later supervisor adopts it (<see cref="VirtualMachine.AdoptAsync"/>).
    /// Unix socket paths are limited to 107 bytes, so keep it short.
    /// </summary>
    public string? PersistentRunDirectory { get; init; }

    /// <summary>
    /// Enforce Secure Boot with the VM's own store; false boots the same SMM firmware from its key-less template (setup
    /// mode, nothing verified) and leaves the VM's store untouched.
    /// </summary>
    public bool SecureBoot { get; init; } = true;

    /// <summary>The vTPM; null launches the VM without a TPM.</summary>
    public VTpmOptions? VTpm { get; init; }

    public int MemoryMiB { get; init; } = 1024;

    public int Cpus { get; init; } = 1;

    public bool Network { get; init; }

    /// <summary>NICs with their MACs and host forwards (<see cref="Qemu.QemuLaunchSpec.Nics"/>).</summary>
    public IReadOnlyList<Qemu.QemuNic> Nics { get; init; } = [];

    /// <summary>Expose VMX/SVM to the guest (<see cref="Qemu.QemuLaunchSpec.NestedVirtualization"/>); hidden by default.</summary>
    public bool NestedVirtualization { get; init; }

    /// <summary>Serial console log; null keeps it in the run folder (removed with it).</summary>
    public string? ConsoleLog { get; init; }

    /// <summary>Host socket of the guest agent port; null puts it in the run folder.</summary>
    public string? AgentSocket { get; init; }

    /// <summary>Forces an accelerator; null probes /dev/kvm.</summary>
    public Accelerator? Accelerator { get; init; }

    public string QemuProgram { get; init; } = "qemu-system-x86_64";

    /// <summary>Where OVMF builds are looked up.</summary>
    public string FirmwareDirectory { get; init; } = TrustedLaunch.Runtime.Firmware.OvmfFirmware.DebianDirectory;

    public string? Name { get; init; }

    public Guid? Uuid { get; init; }

    /// <summary>QEMU trace events to log with timestamps (<c>tl boot --qemu-trace</c>, docs/cli.md); null traces nothing.</summary>
    public Qemu.QemuTrace? QemuTrace { get; init; }

    /// <summary>Exit when the guest reboots or panics instead of resetting.</summary>
    public bool ExitOnReboot { get; init; } = true;

    /// <summary>Human-readable progress lines (launching the vTPM, QEMU, …).</summary>
    public IProgress<string>? Progress { get; init; }
}
