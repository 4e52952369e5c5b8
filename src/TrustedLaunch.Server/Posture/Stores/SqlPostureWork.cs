using System.Data.Common;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Posture.Stores;

/// <summary>
/// Posture's work per VM (<c>posture_work</c>), claimed by whichever replica asks first (docs/scale-out.md, posture work).
/// Storing a result bumps the VM's <c>stored_seq</c> (<see cref="SqlAttestationResultStore"/>); <see cref="ClaimAsync"/>
/// takes VMs with unfolded results that nobody holds (or whose claim expired) into <c>claimed_by/claimed_until</c>, with
/// <c>FOR UPDATE SKIP LOCKED</c> on PostgreSQL so concurrent claimers never wait on each other nor take the same VM;
/// <see cref="ReleaseAsync"/>, inside the transaction that writes what the results raised, moves the VM's
/// <c>folded_result_id</c> only while the claim is still the claimer's and nobody folded meanwhile. So a result is folded
/// by exactly one committed evaluation, and a claimer that died leaves its VMs to the next claimer once the claim expires.
/// </summary>
public sealed class SqlPostureWork(StoreDatabase database)
{
    private static readonly string ResultColumns = string.Join(", ", SqlPostureStore.ResultColumnNames.Select(c => "r." + c));

    /// <summary>The other kind of posture work per VM: its changes, claimed the same way.</summary>
    public SqlPostureVmChanges VmChanges { get; } = new(database);

    /// <summary>Claims up to <paramref name="limit"/> VMs with unfolded results for <paramref name="claimant"/> until <paramref name="until"/>.</summary>
    public async Task<IReadOnlyList<PostureClaim>> ClaimAsync(string claimant, DateTimeOffset now, DateTimeOffset until, int limit,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(claimant);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        // The claimant's own expired or unreleased claims are taken again (a batch whose write lost a race).
        await using DbCommand command = SqlCommands.Create(writer.Connection, null,
                "UPDATE posture_work SET claimed_by = @me, claimed_until = @until WHERE vm_id IN (SELECT vm_id FROM posture_work " +
                "WHERE stored_seq > done_seq AND (claimed_until IS NULL OR claimed_until <= @now OR claimed_by = @me) " +
                $"LIMIT @limit{database.Dialect.SkipLocked}) RETURNING vm_id, folded_result_id, stored_seq, repeat_epoch")
            .With("@me", claimant).With("@until", StoreDatabase.ToUnixMilliseconds(until)).With("@now", StoreDatabase.ToUnixMilliseconds(now))
            .With("@limit", limit);
        var claims = new List<PostureClaim>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            claims.Add(new PostureClaim(Guid.Parse(reader.GetString(0)), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
        return claims;
    }

    /// <summary>The results of the claimed VMs after each one's fold point, oldest first: one index range per VM, whatever its history.</summary>
    public async Task<IReadOnlyList<AttestationRecord>> ClaimedResultsAsync(IReadOnlyList<PostureClaim> claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var results = new List<AttestationRecord>();
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        foreach (PostureClaim[] chunk in claims.Chunk(500))
        {
            // (vm_id = @v AND id > @f) OR …: a range of the (vm_id, id) index each (a join from posture_work was planned as
            // a scan of every result).
            await using DbCommand command = SqlCommands.Create(connection, null,
                $"SELECT {ResultColumns} FROM attestation_results r WHERE " +
                string.Join(" OR ", chunk.Select((_, i) => $"(r.vm_id = @v{i} AND r.id > @f{i})")));
            for (int i = 0; i < chunk.Length; i++)
                command.With("@v" + i, chunk[i].VmId.ToString("D")).With("@f" + i, chunk[i].FoldedResultId);
            results.AddRange(await SqlPostureStore.ReadResultsAsync(command, cancellationToken));
        }

        results.Sort((a, b) => a.Id.CompareTo(b.Id));
        return results;
    }

    /// <summary>How many VMs have results stored that no committed evaluation has folded yet.</summary>
    public async Task<long> PendingAsync(CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, "SELECT COUNT(*) FROM posture_work WHERE stored_seq > done_seq");
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Inside the batch's transaction: each claim released with its VM's results folded up to <see cref="PostureRelease.FoldedResultId"/>,
    /// only where the claim is still <paramref name="claimant"/>'s and the VM's fold point is the one it claimed. False when any is not.
    /// </summary>
    internal static async Task<bool> ReleaseAsync(DbConnection connection, DbTransaction transaction, SqlDialect dialect, string? claimant,
        IReadOnlyList<PostureRelease> releases, IReadOnlyDictionary<Guid, RepeatMark> repeats, CancellationToken cancellationToken)
    {
        // One statement per chunk of VMs (UPDATE … FROM VALUES, the same on both engines; VALUES' columns are column1…9),
        // each row under its own guard: a chunk that updates fewer rows than it names lost a claim. The VM's repeat mark
        // is set with it (docs/posture.md, a repeat folded where it is stored) unless a clearing came since the claim; the
        // repeats folded under the mark it replaces are first added to the alerts that carry its tag.
        foreach (PostureRelease[] chunk in releases.Chunk(200))
        {
            await AddRepeatsToAlertsAsync(connection, transaction, dialect, chunk, cancellationToken);
            await using DbCommand command = SqlCommands.Create(connection, transaction,
                "UPDATE posture_work SET folded_result_id = v.column2, done_seq = v.column3, claimed_by = NULL, claimed_until = NULL, " +
                "repeat_fp = CASE WHEN posture_work.repeat_epoch = v.column9 THEN v.column5 ELSE '' END, repeat_tag = v.column6, repeat_vm_seq = v.column7, " +
                "repeat_settings = v.column8, repeat_count = 0, repeat_last_at = 0, repeat_last_result = 0 " +
                $"FROM (VALUES {string.Join(", ", chunk.Select((_, i) => $"(@v{i}, @to{i}, @seq{i}, @from{i}, @fp{i}, @tag{i}, @vs{i}, @ss{i}, @ep{i})"))}) AS v " +
                "WHERE posture_work.vm_id = v.column1 AND posture_work.claimed_by = @me AND posture_work.folded_result_id = v.column4");
            command.With("@me", claimant);
            for (int i = 0; i < chunk.Length; i++)
            {
                RepeatMark mark = repeats.GetValueOrDefault(chunk[i].VmId) ?? RepeatMark.None;
                command.With("@v" + i, chunk[i].VmId.ToString("D")).With("@to" + i, chunk[i].FoldedResultId).With("@seq" + i, chunk[i].StoredSeq)
                    .With("@from" + i, chunk[i].ClaimedFrom).With("@fp" + i, mark.Fingerprint).With("@tag" + i, mark.Tag)
                    .With("@vs" + i, mark.VmChangeSequence).With("@ss" + i, mark.SettingsVersion).With("@ep" + i, chunk[i].RepeatEpoch);
            }

            if (await command.ExecuteNonQueryAsync(cancellationToken) != chunk.Length)
                return false;
        }

        return true;
    }

    // The repeats a VM's mark counted, written into the alerts carrying its tag (count, end time, last result), before the
    // mark is replaced; an alert the batch writes too is then written over these counts (its guard reads them as such).
    private static async Task AddRepeatsToAlertsAsync(DbConnection connection, DbTransaction transaction, SqlDialect dialect, PostureRelease[] chunk,
        CancellationToken cancellationToken)
    {
        await using DbCommand command = SqlCommands.Create(connection, transaction,
            "UPDATE security_alerts SET alert_count = security_alerts.alert_count + w.repeat_count, " +
            $"end_time = {dialect.Greatest("security_alerts.end_time", "w.repeat_last_at")}, " +
            $"last_result_id = {dialect.Greatest("security_alerts.last_result_id", "w.repeat_last_result")} FROM posture_work w " +
            "WHERE security_alerts.repeats_with <> '' AND w.vm_id = security_alerts.vm_id AND w.repeat_tag = security_alerts.repeats_with " +
            $"AND w.repeat_count > 0 AND w.vm_id IN ({string.Join(", ", chunk.Select((_, i) => "@v" + i))})");
        for (int i = 0; i < chunk.Length; i++)
            command.With("@v" + i, chunk[i].VmId.ToString("D"));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// First in a batch's transaction (PostgreSQL): the work rows of every VM it releases or clears, locked in one order
    /// (by VM id), before any other row. Every writer of a VM's posture (a result's store, a status action, a batch) takes
    /// the VM's work row first, so no two of them wait on each other in opposite orders.
    /// </summary>
    internal static async Task LockAsync(DbConnection connection, DbTransaction transaction, SqlDialect dialect, IEnumerable<Guid> vmIds,
        CancellationToken cancellationToken)
    {
        if (dialect.ForUpdate.Length == 0)
            return;
        foreach (string[] chunk in vmIds.Select(id => id.ToString("D")).Distinct().Order(StringComparer.Ordinal).Chunk(500))
        {
            await using DbCommand command = SqlCommands.Create(connection, transaction,
                $"SELECT vm_id FROM posture_work WHERE vm_id IN ({string.Join(", ", chunk.Select((_, i) => "@v" + i))}) ORDER BY vm_id{dialect.ForUpdate}");
            for (int i = 0; i < chunk.Length; i++)
                command.With("@v" + i, chunk[i]);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// The VMs' repeat marks dropped, so their next result goes through an engine; the epoch counted up keeps a batch that
    /// read before this from setting a mark over it. In a batch's transaction, for the VMs it wrote for other than through
    /// their results (a sweep's stale attestation or overdue agent, a VM change); first in a status action's (a person's)
    /// on an alert, so no result is folded against an alert just closed and the row lock orders it with the VM's results.
    /// </summary>
    internal static async Task ClearRepeatsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyCollection<Guid> vmIds,
        CancellationToken cancellationToken)
    {
        foreach (Guid[] chunk in vmIds.Chunk(500))
        {
            await using DbCommand command = SqlCommands.Create(connection, transaction,
                "UPDATE posture_work SET repeat_fp = '', repeat_epoch = repeat_epoch + 1 " +
                $"WHERE vm_id IN ({string.Join(", ", chunk.Select((_, i) => "@v" + i))})");
            for (int i = 0; i < chunk.Length; i++)
                command.With("@v" + i, chunk[i].ToString("D"));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}

/// <summary>
/// A VM claimed: its results after <paramref name="FoldedResultId"/> are to be folded; <paramref name="StoredSeq"/> counts
/// what was stored by then; <paramref name="RepeatEpoch"/> is the repeat mark's epoch then.
/// </summary>
public readonly record struct PostureClaim(Guid VmId, long FoldedResultId, long StoredSeq, long RepeatEpoch = 0);

/// <summary>A claim given back: the VM's results folded from <paramref name="ClaimedFrom"/> up to <paramref name="FoldedResultId"/>.</summary>
public readonly record struct PostureRelease(Guid VmId, long ClaimedFrom, long FoldedResultId, long StoredSeq, long RepeatEpoch = 0);
