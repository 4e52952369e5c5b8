using TrustedLaunch.Attestation;

namespace TrustedLaunch.Server.Stores;

/// <summary>
/// A restore of a VM's guest state its owner asked for (docs/lifecycle.md): from then on the VM's quotes are compared with
/// <see cref="Floor"/> — the newest quote the service had accepted when the restored copy was taken — instead of with the
/// quotes of the state that was rolled away. A quote older than the floor (a copy from before the snapshot) is still refused.
/// </summary>
/// <param name="Source">What was restored (the snapshot or backup id).</param>
/// <param name="Floor">Null when no quote had been accepted before the copy was taken: the next quote starts the record anew.</param>
public sealed record SanctionedRestore(Guid VmId, string Source, QuoteClock? Floor, DateTimeOffset RestoredAt);

/// <summary>The record of sanctioned restores, and the one way the quote-clock record of a VM may move back.</summary>
public interface ISanctionedRestoreStore
{
    /// <summary>Records the restore and sets the VM's quote clock to its floor, in one transaction.</summary>
    Task RecordAsync(SanctionedRestore restore, CancellationToken cancellationToken);

    /// <summary>The VM's sanctioned restores, oldest first.</summary>
    Task<IReadOnlyList<SanctionedRestore>> ListAsync(Guid vmId, CancellationToken cancellationToken);
}
