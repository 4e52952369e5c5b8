namespace TrustedLaunch.Attestation;

/// <summary>
/// A Secure Boot key change the platform made on purpose (a certificate rollover, <c>tl vmgs update-keys</c>), armed on
/// the VM's baseline before its next boot: the KEK, db and dbx the VM will measure into PCR 7. A PCR 7 deviation is
/// sanctioned only when the attested boot shows exactly these databases with Secure Boot on and the baseline's PK;
/// any other PCR 7 change (or one with other keys) is still a deviation. docs/secureboot-rollover.md.
/// </summary>
public sealed record SanctionedKeyChange
{
    /// <summary>The operation that changed the keys; the relearned baseline records it.</summary>
    public required string OperationId { get; init; }

    public required DateTimeOffset ArmedAt { get; init; }

    /// <summary>SHA-256 of each KEK entry after the change (any order).</summary>
    public required IReadOnlyList<string> Kek { get; init; }

    /// <summary>SHA-256 of each db entry after the change (any order).</summary>
    public required IReadOnlyList<string> Db { get; init; }

    /// <summary>The dbx after the change: its entry count and <see cref="SecureBootKeys.DbxDigest"/>.</summary>
    public required int DbxCount { get; init; }

    public required string DbxDigest { get; init; }

    /// <summary>
    /// True when <paramref name="actual"/> shows exactly the sanctioned databases, Secure Boot on, and the same PK as
    /// <paramref name="learned"/>: then a PCR 7 difference is this change and nothing else the databases could hide.
    /// </summary>
    public bool Explains(AttestedBootState learned, AttestedBootState actual)
    {
        ArgumentNullException.ThrowIfNull(learned);
        ArgumentNullException.ThrowIfNull(actual);
        SecureBootKeys keys = actual.Keys;
        return actual.SecureBootEnabled == true
            && SameSet(learned.Keys.Pk.Select(e => e.Sha256), keys.Pk.Select(e => e.Sha256))
            && SameSet(Kek, keys.Kek.Select(e => e.Sha256))
            && SameSet(Db, keys.Db.Select(e => e.Sha256))
            && keys.DbxCount == DbxCount
            && string.Equals(keys.DbxDigest, DbxDigest, StringComparison.OrdinalIgnoreCase);
    }

    private static bool SameSet(IEnumerable<string> a, IEnumerable<string> b) =>
        new HashSet<string>(a, StringComparer.OrdinalIgnoreCase).SetEquals(b);
}
