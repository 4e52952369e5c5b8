namespace TrustedLaunch.SecureBoot.Rollover;

/// <summary>How a key update ended.</summary>
public enum KeyUpdateStatus
{
    /// <summary>The store changed; <see cref="KeyUpdateOutcome.UpdatedStore"/> holds it.</summary>
    Applied,

    /// <summary>The store already holds everything asked for: nothing to write.</summary>
    Unchanged,

    /// <summary>The dbx update's signature does not verify against the VM's KEK (EFI_SECURITY_VIOLATION at the firmware).</summary>
    RefusedByKek,

    /// <summary>The dbx update is malformed (EFI_INVALID_PARAMETER at the firmware).</summary>
    InvalidUpdate,

    /// <summary>A binary of the VM's boot chain that the firmware admits today would be refused after the update.</summary>
    RefusedByPreflight,

    /// <summary>The request cannot be applied to this store (no Secure Boot keys, a pending fault-tolerant write, wrong template).</summary>
    NotApplicable,
}

/// <summary>One entry added to or removed from KEK, db or dbx.</summary>
/// <param name="Database">KEK, db or dbx.</param>
/// <param name="Action">added or removed.</param>
/// <param name="Entry">The certificate's subject, or the hash as <c>sha256:HEX</c>.</param>
public sealed record KeyChange(string Database, string Action, string Entry);

/// <summary>The pre-flight's view of one boot-chain binary: the firmware's verdict now and after the update.</summary>
/// <param name="Path">Where the binary lives (on the ESP).</param>
/// <param name="Before">The verdict against the store as it is.</param>
/// <param name="After">The verdict against the updated store.</param>
public sealed record PreflightVerdict(string Path, SecureBootVerdict Before, SecureBootVerdict After)
{
    /// <summary>True when the firmware admits the binary now and would refuse it after the update.</summary>
    public bool Regresses => Before.Allowed && !After.Allowed;

    /// <summary>True when the updated dbx forbids the binary (hash or certificate) and the current one did not.</summary>
    public bool NewlyForbidden => IsForbidden(After) && !IsForbidden(Before);

    private static bool IsForbidden(SecureBootVerdict v) =>
        (v.IfEnforced ?? v).Reason is VerdictReason.HashInDbx or VerdictReason.CertificateInDbx;
}

/// <summary>What <see cref="SecureBootKeyUpdater.Apply"/> decided, changed and checked.</summary>
public sealed record KeyUpdateOutcome
{
    public required KeyUpdateStatus Status { get; init; }

    /// <summary>One sentence: what was done or why nothing was.</summary>
    public required string Message { get; init; }

    /// <summary>Entries added or removed, KEK before db before dbx (empty unless <see cref="KeyUpdateStatus.Applied"/>, also when refused: what would have changed).</summary>
    public IReadOnlyList<KeyChange> Changes { get; init; } = [];

    /// <summary>Every boot-chain binary the pre-flight judged.</summary>
    public IReadOnlyList<PreflightVerdict> Preflight { get; init; } = [];

    /// <summary>The updated flash image (only when <see cref="KeyUpdateStatus.Applied"/>).</summary>
    public byte[]? UpdatedStore { get; init; }

    /// <summary>The signer of the dbx update, when one was verified.</summary>
    public string? DbxUpdateSigner { get; init; }

    /// <summary>What the next boot will prove in PCR 7 (only when <see cref="KeyUpdateStatus.Applied"/>): arm it as a sanctioned key change.</summary>
    public ExpectedAttestedKeys? ExpectedKeys { get; init; }
}
