namespace TrustedLaunch.ControlPlane.Model;

// The Secure Boot certificate rollover of existing VMs (docs/secureboot-rollover.md): Azure has no such action, so it is
// ours and named as an extension, POST …/virtualMachines/{name}/x-tl-updateSecureBootKeys.

/// <summary>The body of <c>POST …/x-tl-updateSecureBootKeys</c> (one VM, or a resource group / scale set for the fleet form).</summary>
public sealed record SecureBootKeyUpdateRequest
{
    /// <summary>Bring KEK and db to <c>microsoft</c> (2011 and 2023 CAs) or <c>microsoft-2023</c>; the VM's own entries stay.</summary>
    public string? Template { get; init; }

    /// <summary>A signed dbx update (e.g. Microsoft's <c>DBXUpdate.bin</c>), base64: appended through the firmware's authenticated path.</summary>
    public string? DbxUpdate { get; init; }

    /// <summary>The update's file name, for messages (<c>DBXUpdate.bin is refused: …</c>).</summary>
    public string? DbxUpdateName { get; init; }

    /// <summary>Fleet form only: the flexible scale set whose VMs are updated (else every VM of the resource group).</summary>
    public string? VirtualMachineScaleSet { get; init; }
}

/// <summary>KEK, db and dbx as PCR 7 proves them: SHA-256 of each certificate's DER, the dbx entry count and the SHA-256 over its entries.</summary>
public sealed record SecureBootKeyDigests
{
    public required IReadOnlyList<string> Kek { get; init; }

    public required IReadOnlyList<string> Db { get; init; }

    public required int DbxCount { get; init; }

    public required string DbxDigest { get; init; }
}

/// <summary>
/// A VM's latest key update as the control plane records it (shown in its instance view as <c>x-tl-secureBootKeyUpdate</c>):
/// what was asked, when it applies, and, once its host has answered, what changed.
/// </summary>
public sealed record SecureBootKeyUpdateRecord
{
    /// <summary>Pending (its host applies it now: the VM is not running), PendingRestart (applied before the VM's next start), Succeeded or Failed.</summary>
    public required string State { get; init; }

    public required string OperationId { get; init; }

    public required DateTimeOffset RequestedAt { get; init; }

    public string? Template { get; init; }

    public string? DbxUpdateName { get; init; }

    /// <summary>SHA-256 of the dbx update as given.</summary>
    public string? DbxUpdateSha256 { get; init; }

    /// <summary>The update itself, base64, kept only until the host has answered.</summary>
    public string? DbxUpdate { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>The host's outcome: Applied, Unchanged, RefusedByKek, RefusedByPreflight, InvalidUpdate or NotApplicable.</summary>
    public string? Outcome { get; init; }

    public string? Message { get; init; }

    /// <summary>Each entry added or removed (<c>db added CN=Microsoft UEFI CA 2023, …</c>).</summary>
    public IReadOnlyList<string>? Changes { get; init; }

    public string? DbxUpdateSigner { get; init; }

    public SecureBootKeyDigests? Before { get; init; }

    public SecureBootKeyDigests? After { get; init; }

    public bool IsPending => State is "Pending" or "PendingRestart";
}

/// <summary>What a host must apply to a VM's VMGS (in <c>VmAssignment</c> while the update is pending).</summary>
public sealed record SecureBootKeyUpdateAssignment
{
    public required string OperationId { get; init; }

    public string? Template { get; init; }

    public string? DbxUpdate { get; init; }

    public string? DbxUpdateName { get; init; }
}

/// <summary>What a host did with a key update (in <c>VmReport</c>).</summary>
public sealed record SecureBootKeyUpdateReport
{
    public required string OperationId { get; init; }

    /// <summary>Applied, Unchanged, RefusedByKek, RefusedByPreflight, InvalidUpdate, NotApplicable, or Failed (the host could not run it).</summary>
    public required string Outcome { get; init; }

    public required string Message { get; init; }

    public IReadOnlyList<string>? Changes { get; init; }

    public string? DbxUpdateSigner { get; init; }

    public SecureBootKeyDigests? Before { get; init; }

    /// <summary>The keys the VM's next boot proves in PCR 7 (Applied or Unchanged): the sanction armed for its baseline.</summary>
    public SecureBootKeyDigests? After { get; init; }
}

/// <summary>The answer for one VM: whether its update applies now or at its next restart, and its operation (or why it was refused).</summary>
public sealed record SecureBootKeyUpdateVmResult
{
    public required string Name { get; init; }

    public required string Id { get; init; }

    /// <summary>Pending (its host applies it now), PendingRestart (applied before the VM's next start; it is running), or Refused (with <see cref="Error"/>).</summary>
    public required string Status { get; init; }

    public string? Message { get; init; }

    public string? OperationId { get; init; }

    /// <summary>The operation's status URL (relative), as <c>Azure-AsyncOperation</c> names it.</summary>
    public string? OperationUrl { get; init; }

    public Arm.ArmErrorDetail? Error { get; init; }
}

/// <summary>The answer of the fleet form: one entry per VM, each VM's operation its own.</summary>
public sealed record SecureBootKeyUpdateFleetResult
{
    public required IReadOnlyList<SecureBootKeyUpdateVmResult> Value { get; init; }
}
