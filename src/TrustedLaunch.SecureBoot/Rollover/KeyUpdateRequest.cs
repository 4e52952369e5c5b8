using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.SecureBoot.Rollover;

/// <summary>
/// What the Secure Boot certificate rollover changes in one VM's variable store (docs/secureboot-rollover.md): KEK and db
/// brought to a Microsoft template's CAs by the platform (which owns the store, as it owns the PK), and optionally a
/// signed dbx update applied as the firmware would apply it.
/// </summary>
public sealed record KeyUpdateRequest
{
    /// <summary>
    /// <see cref="SecureBootTemplate.Microsoft"/> (2011 and 2023 CAs) or <see cref="SecureBootTemplate.Microsoft2023"/>
    /// (2023 only: the 2011 Microsoft entries leave KEK and db); null leaves KEK and db as they are. Entries that are not
    /// Microsoft's CAs (a VM's own keys) are always kept.
    /// </summary>
    public SecureBootTemplate? Template { get; init; }

    /// <summary>
    /// A signed dbx update (EFI_VARIABLE_AUTHENTICATION_2 + EFI_SIGNATURE_LISTs, e.g. Microsoft's DBXUpdate.bin), applied
    /// with APPEND_WRITE and verified against the KEK the store has after <see cref="Template"/>; null for none.
    /// </summary>
    public ReadOnlyMemory<byte>? DbxUpdate { get; init; }

    /// <summary>How reports name the dbx update (its file name).</summary>
    public string? DbxUpdateName { get; init; }
}
