using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;

namespace TrustedLaunch.ControlPlane.Hosts;

// The contract between the control plane and a host agent (`tl host`, phase 2), over HTTP initiated by the host only
// (no inbound connection to hosts): register, long-poll the desired state of the VMs placed on it, report what it
// observed. docs/control-plane.md ("Host contract") describes the loop.

/// <summary><c>PUT /v1/hosts/{name}</c>: a host announces itself and its capacity (again after a restart: idempotent).</summary>
public sealed record HostRegistration
{
    public int? VCpus { get; init; }

    public int? MemoryInMB { get; init; }

    /// <summary><c>kvm</c> or <c>tcg</c>.</summary>
    public string? Accelerator { get; init; }

    public string? AgentVersion { get; init; }
}

/// <summary>A registered host as the control plane sees it.</summary>
public sealed record HostView
{
    public required string Name { get; init; }

    public required int VCpus { get; init; }

    public required int MemoryInMB { get; init; }

    public required string Accelerator { get; init; }

    public string? AgentVersion { get; init; }

    public required DateTimeOffset RegisteredAt { get; init; }

    public required DateTimeOffset LastSeenAt { get; init; }

    /// <summary>Heard from within the liveness window; the VMs of a host that is not alive show PowerState/unknown.</summary>
    public required bool Alive { get; init; }

    /// <summary>vCPUs and memory of the VMs placed on it that are not deallocated.</summary>
    public required int AllocatedVCpus { get; init; }

    public required int AllocatedMemoryInMB { get; init; }

    public required int VirtualMachines { get; init; }

    /// <summary>A host not heard from for this long is lost: poll (or report) more often than this.</summary>
    public int LivenessWindowSeconds { get; init; }
}

/// <summary>
/// <c>GET /v1/hosts/{name}/assignments?token=T&amp;timeoutSeconds=S</c>: the desired state of every VM placed on the host.
/// The answer comes at once when it differs from the one <c>token</c> names, else when something changes or after S seconds.
/// </summary>
public sealed record HostAssignments
{
    public required string Host { get; init; }

    /// <summary>Opaque; pass it back as <c>token</c> on the next poll.</summary>
    public required string Token { get; init; }

    public required IReadOnlyList<VmAssignment> VirtualMachines { get; init; }

    /// <summary>The snapshots whose files are (or are to be) on the host: take the Present ones not taken yet, remove the Deleted ones.</summary>
    public IReadOnlyList<SnapshotAssignment>? Snapshots { get; init; }

    /// <summary>The Unattached disks whose files the host keeps (<c>TL_HOME/detached/&lt;name&gt;-&lt;diskId:N&gt;</c>): remove the Deleted ones.</summary>
    public IReadOnlyList<DiskAssignment>? Disks { get; init; }

    /// <summary>
    /// The libvirt domains this host registered (<c>tl host --libvirt-domain</c>): never the host's to run, only to attest. Their
    /// attestation generations are part of the token, so a <c>POST …/attest</c> on one wakes the host's poll.
    /// </summary>
    public IReadOnlyList<LibvirtDomainAssignment>? LibvirtDomains { get; init; }
}

/// <summary>A libvirt domain a host attests (its VM resource is <c>externallyManaged</c>).</summary>
public sealed record LibvirtDomainAssignment
{
    /// <summary>The VM's id: the domain's UUID.</summary>
    public required Guid VmId { get; init; }

    public required string DomainName { get; init; }

    /// <summary>Increases with every request to attest the domain now: attest when it is above the one last handled.</summary>
    public required long AttestationGeneration { get; init; }
}

/// <summary>One Unattached disk a host keeps: the OS disk and VM guest state a VM deleted with <c>deleteOption: Detach</c> left.</summary>
public sealed record DiskAssignment
{
    public required Guid DiskId { get; init; }

    public required string ResourceId { get; init; }

    public required string Name { get; init; }

    /// <summary>Present (keep it) or Deleted (remove its files, report <c>Deleted</c>).</summary>
    public required string DesiredState { get; init; }
}

/// <summary>What a host did with one disk: <c>Deleted</c> (its files are gone, or were never there).</summary>
public sealed record DiskReport
{
    public Guid DiskId { get; init; }

    public string? State { get; init; }
}

/// <summary>One snapshot a host keeps (<c>TL_HOME/snapshots/&lt;id&gt;</c>): the pair of OS disk and VMGS of one of its VMs.</summary>
public sealed record SnapshotAssignment
{
    public required Guid SnapshotId { get; init; }

    public required string ResourceId { get; init; }

    /// <summary>The VM to take the pair of (it must be stopped or deallocated on this host).</summary>
    public required Guid SourceVmId { get; init; }

    /// <summary>Present (take it if it is not there) or Deleted (remove its files, report <c>deleted</c>).</summary>
    public required string DesiredState { get; init; }
}

/// <summary>What a host did with one snapshot: <c>Succeeded</c> (taken, or there already), <c>Failed</c> (with <see cref="Error"/>), <c>Deleted</c>.</summary>
public sealed record SnapshotReport
{
    public Guid SnapshotId { get; init; }

    public string? State { get; init; }

    public ArmErrorDetail? Error { get; init; }

    /// <summary>The OS disk's size (the qcow2 overlay's bytes), and the VMGS's SHA-256 when one was copied.</summary>
    public long? DiskSizeBytes { get; init; }

    public string? VmgsSha256 { get; init; }
}

/// <summary>One VM a host must converge.</summary>
public sealed record VmAssignment
{
    public required Guid VmId { get; init; }

    public required string ResourceId { get; init; }

    public required string Name { get; init; }

    /// <summary>The version to converge to; report it back as <see cref="VmReport.ObservedVersion"/> once applied.</summary>
    public required long Version { get; init; }

    /// <summary>Running, Stopped, Deallocated, or Deleted (stop it, remove its files unless kept by deleteOption, report <c>deleted</c>).</summary>
    public required string DesiredPowerState { get; init; }

    /// <summary>Increases with every restart request: restart the VM when it is above the one last applied.</summary>
    public required long RestartGeneration { get; init; }

    /// <summary>Increases with every request to attest the VM now: attest when it is above the one last handled.</summary>
    public long AttestationGeneration { get; init; }

    /// <summary>
    /// A Secure Boot key update to apply to the VM's VMGS while the VM is not running: now when it is stopped or
    /// deallocated, else before its next start. Report the outcome with its operation id.
    /// </summary>
    public SecureBootKeyUpdateAssignment? SecureBootKeyUpdate { get; init; }

    public required VmRuntimeSpec Spec { get; init; }
}

/// <summary>What a host needs to build and run one VM (QEMU, OVMF or SeaBIOS, <c>tl-vtpm</c> on the VMGS).</summary>
public sealed record VmRuntimeSpec
{
    public required string VmSize { get; init; }

    public required int VCpus { get; init; }

    public required int MemoryInMB { get; init; }

    /// <summary>The image's generation: V2 boots OVMF (UEFI), V1 SeaBIOS.</summary>
    public required string HyperVGeneration { get; init; }

    /// <summary><c>publisher:offer:sku:version</c> (the exact version).</summary>
    public required string ImageUrn { get; init; }

    /// <summary>The registered image file the OS disk is created from (null when the image was removed from the catalog since).</summary>
    public string? ImagePath { get; init; }

    /// <summary>TrustedLaunch or Standard.</summary>
    public required string SecurityType { get; init; }

    public required bool SecureBootEnabled { get; init; }

    public required bool VTpmEnabled { get; init; }

    /// <summary>The Trusted Launch settings (template, keys, attestation interval, policy, nested virtualization).</summary>
    public required TrustedLaunchExtensions Extensions { get; init; }

    public required string ComputerName { get; init; }

    public required string OsDiskName { get; init; }

    /// <summary>Delete: remove the OS disk and the VMGS with the VM; Detach: keep both.</summary>
    public required string OsDiskDeleteOption { get; init; }

    /// <summary>
    /// The OS disk's <c>uniqueId</c>: Detach moves the disk and VMGS to <c>TL_HOME/detached/&lt;OsDiskName&gt;-&lt;OsDiskId:N&gt;</c>
    /// (null: the VM id, as hosts named the folder before disks were resources).
    /// </summary>
    public Guid? OsDiskId { get; init; }

    /// <summary>
    /// The OS disk is an Unattached disk on this host (<c>createOption: Attach</c> of a <c>Microsoft.Compute/disks</c> id): its
    /// files (<c>TL_HOME/detached/&lt;OsDiskName&gt;-&lt;OsDiskId:N&gt;</c>) become the VM's in place, its VM guest state with them
    /// (the vTPM keeps its EK; its AK is certified again for this VM's id).
    /// </summary>
    public bool AttachDetachedDisk { get; init; }

    public int? OsDiskSizeGB { get; init; }

    public required IReadOnlyList<DataDisk> DataDisks { get; init; }

    /// <summary>
    /// The OS disk is attached from this snapshot (<c>createOption: Attach</c>): the VM's first files are a copy of the snapshot's
    /// disk and a new VMGS with its UEFI variables and a freshly manufactured vTPM (a copy never shares its source's identity).
    /// </summary>
    public Guid? SourceSnapshotId { get; init; }

    /// <summary>
    /// Restore the VM's disk and VMGS from this snapshot of it (on this host) before converging, once: when
    /// <see cref="RestoreVersion"/> is above the restore last applied. The VM keeps its identity (same EK and AK).
    /// </summary>
    public Guid? RestoreSnapshotId { get; init; }

    public long? RestoreVersion { get; init; }

    /// <summary>One virtio NIC per network interface of the VM, primary first (none: the VM has no network).</summary>
    public IReadOnlyList<VmNetworkInterfaceSpec> NetworkInterfaces { get; init; } = [];
}

/// <summary>A NIC as its host builds it: QEMU user-mode networking with the NIC's MAC and the host forwards its NSGs allow.</summary>
public sealed record VmNetworkInterfaceSpec
{
    /// <summary>The <c>Microsoft.Network/networkInterfaces</c> id.</summary>
    public required string Id { get; init; }

    /// <summary>Azure's form, <c>00-0D-3A-12-34-56</c>.</summary>
    public required string MacAddress { get; init; }

    public required bool Primary { get; init; }

    /// <summary>The private IP of its first IP configuration (what the guest's DHCP hands out) and its subnet's IPv4 prefix.</summary>
    public string? PrivateIPAddress { get; init; }

    public string? SubnetPrefix { get; init; }

    public required IReadOnlyList<HostForward> HostForwards { get; init; }
}

/// <summary>A guest TCP port reachable on the host: <c>hostAddress:hostPort</c> → the guest's <c>guestPort</c>, allowed by <c>rule</c>.</summary>
public sealed record HostForward
{
    /// <summary><c>tcp</c>.</summary>
    public required string Protocol { get; init; }

    /// <summary>127.0.0.1 (the NIC has no public IP: the host only) or 0.0.0.0 (it has one: every address of the host).</summary>
    public required string HostAddress { get; init; }

    public required int HostPort { get; init; }

    public required int GuestPort { get; init; }

    /// <summary>The security rule that allows it (<c>nsgName/ruleName</c>).</summary>
    public required string Rule { get; init; }
}

/// <summary><c>POST /v1/hosts/{name}/reports</c>: what the host observed, for any number of its VMs.</summary>
public sealed record HostReport
{
    public IReadOnlyList<VmReport>? VirtualMachines { get; init; }

    public IReadOnlyList<SnapshotReport>? Snapshots { get; init; }

    public IReadOnlyList<DiskReport>? Disks { get; init; }
}

public sealed record VmReport
{
    public Guid VmId { get; init; }

    /// <summary>The assignment version the host has applied (or failed to apply, with <see cref="Error"/>).</summary>
    public long ObservedVersion { get; init; }

    /// <summary>Starting, Running, Stopping, Stopped, Deallocating or Deallocated.</summary>
    public string? PowerState { get; init; }

    /// <summary>The VM is gone from the host (its files removed or detached as its deleteOption said).</summary>
    public bool Deleted { get; init; }

    /// <summary>Applying <see cref="ObservedVersion"/> failed: the operation fails with this error.</summary>
    public ArmErrorDetail? Error { get; init; }

    /// <summary>The runtime's boot verdict (booted, secure-boot-violation, …) and its detail.</summary>
    public string? BootVerdict { get; init; }

    public string? BootVerdictDetail { get; init; }

    public string? ConsoleTail { get; init; }

    /// <summary>The vTPM's identity keys (EK and AK public keys and certificates), reported once the host has made its guest state.</summary>
    public IReadOnlyList<VTpmKeyReport>? VTpmKeys { get; init; }

    /// <summary>The outcome of the assignment's Secure Boot key update, once the host has applied (or refused) it.</summary>
    public SecureBootKeyUpdateReport? SecureBootKeyUpdate { get; init; }

    /// <summary>
    /// The <see cref="VmRuntimeSpec.RestoreVersion"/> of the last snapshot restore the host completed (disk and VMGS rolled back);
    /// absent when it refused it. The control plane records the sanctioned restore on this, not on the request.
    /// </summary>
    public long? RestoredVersion { get; init; }
}

/// <summary>One identity key of a VM's vTPM, as its host read it from the vTPM when it manufactured it.</summary>
public sealed record VTpmKeyReport
{
    /// <summary><c>ek-rsa2048</c>, <c>ek-eccp256</c> or <c>ak-rsa2048</c>.</summary>
    public required string Role { get; init; }

    public string? Algorithm { get; init; }

    /// <summary>The persistent handle of the key in the vTPM (<c>0x81010001</c>).</summary>
    public string? PersistentHandle { get; init; }

    /// <summary>The NV index of its certificate (<c>0x01C00002</c>).</summary>
    public string? CertificateIndex { get; init; }

    /// <summary>SubjectPublicKeyInfo, PEM.</summary>
    public string? PublicKeyPem { get; init; }

    /// <summary>The platform CA's certificate for the key, PEM.</summary>
    public string? CertificatePem { get; init; }
}

/// <summary>What happened to each VM of a report.</summary>
public sealed record HostReportResult(int Applied, IReadOnlyList<Guid> Unknown);
