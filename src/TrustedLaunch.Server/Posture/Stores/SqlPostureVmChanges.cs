using System.Data.Common;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Posture.Stores;

/// <summary>
/// VM changes (updates, host reports, boots: every write of a VM counts up its <c>change_seq</c>) as posture work claimed
/// per VM by whichever replica asks first, like results (<see cref="SqlPostureWork"/>): <see cref="FeedAsync"/> copies the
/// VMs written past the <c>vm-changes</c> cursor into <c>posture_vm_changes</c> and moves the cursor in the same
/// transaction (of two replicas feeding the same changes one commits); <see cref="ClaimAsync"/> takes rows nobody holds
/// (or whose claim expired) with <c>FOR UPDATE SKIP LOCKED</c> on PostgreSQL; <see cref="ReleaseAsync"/>, inside the
/// transaction that writes the evaluation, removes each row while the claim is still the claimer's. A replica killed
/// holding claims leaves its VMs to the next claimer once the claims expire; a VM written again while claimed keeps its
/// row (its newer sequence) and is evaluated again.
/// </summary>
public sealed class SqlPostureVmChanges(StoreDatabase database)
{
    /// <summary>The cursor over <c>virtual_machines.change_seq</c> that <see cref="FeedAsync"/> moves.</summary>
    public const string Cursor = SqlPostureStore.VmChangesCursor;

    /// <summary>
    /// Copies up to <paramref name="limit"/> VMs written after the cursor into the claim table and moves the cursor past
    /// them; the number copied (0 when there was nothing, or another replica fed them first). A read first: no change, no write.
    /// </summary>
    public async Task<int> FeedAsync(int limit, CancellationToken cancellationToken)
    {
        await using (DbConnection connection = await database.OpenConnectionAsync(cancellationToken))
        {
            if ((await ChangedAsync(connection, null, limit, cancellationToken)).Changed.Count == 0)
                return 0;
        }

        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbTransaction transaction = await database.BeginWriteTransactionAsync(writer.Connection, cancellationToken);
        // Read again in the transaction: another replica may have fed them meanwhile (the cursor's swap decides).
        (long cursor, List<(Guid VmId, long Sequence)> changed) = await ChangedAsync(writer.Connection, transaction, limit, cancellationToken);
        if (changed.Count == 0)
            return 0;
        foreach ((Guid VmId, long Sequence)[] chunk in changed.Chunk(250))
        {
            await using DbCommand upsert = SqlCommands.Create(writer.Connection, transaction,
                $"INSERT INTO posture_vm_changes (vm_id, change_seq) VALUES {string.Join(", ", chunk.Select((_, i) => $"(@v{i}, @s{i})"))} " +
                "ON CONFLICT (vm_id) DO UPDATE SET change_seq = excluded.change_seq WHERE posture_vm_changes.change_seq < excluded.change_seq");
            for (int i = 0; i < chunk.Length; i++)
                upsert.With("@v" + i, chunk[i].VmId.ToString("D")).With("@s" + i, chunk[i].Sequence);
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using DbCommand move = SqlCommands.Create(writer.Connection, transaction,
                "INSERT INTO posture_cursors (name, value) VALUES (@n, @v) ON CONFLICT (name) DO UPDATE SET value = excluded.value " +
                "WHERE posture_cursors.value = @expected")
            .With("@n", Cursor).With("@v", changed.Max(c => c.Sequence)).With("@expected", cursor);
        if (await move.ExecuteNonQueryAsync(cancellationToken) != 1)
            return 0; // disposing the transaction rolls it back
        await transaction.CommitAsync(cancellationToken);
        return changed.Count;
    }

    /// <summary>Claims up to <paramref name="limit"/> changed VMs for <paramref name="claimant"/> until <paramref name="until"/> (a read first: most runs find none).</summary>
    public async Task<IReadOnlyList<VmChangeClaim>> ClaimAsync(string claimant, DateTimeOffset now, DateTimeOffset until, int limit,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(claimant);
        const string Claimable = "(claimed_until IS NULL OR claimed_until <= @now OR claimed_by = @me)";
        await using (DbConnection connection = await database.OpenConnectionAsync(cancellationToken))
        {
            await using DbCommand any = SqlCommands.Create(connection, null, $"SELECT 1 FROM posture_vm_changes WHERE {Claimable} LIMIT 1")
                .With("@now", StoreDatabase.ToUnixMilliseconds(now)).With("@me", claimant);
            if (await any.ExecuteScalarAsync(cancellationToken) is null)
                return [];
        }

        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        // The claimant's own unreleased claims are taken again (a batch whose write lost a race).
        await using DbCommand command = SqlCommands.Create(writer.Connection, null,
                "UPDATE posture_vm_changes SET claimed_by = @me, claimed_until = @until WHERE vm_id IN (SELECT vm_id FROM posture_vm_changes " +
                $"WHERE {Claimable} LIMIT @limit{database.Dialect.SkipLocked}) RETURNING vm_id, change_seq")
            .With("@me", claimant).With("@until", StoreDatabase.ToUnixMilliseconds(until)).With("@now", StoreDatabase.ToUnixMilliseconds(now))
            .With("@limit", limit);
        var claims = new List<VmChangeClaim>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            claims.Add(new VmChangeClaim(Guid.Parse(reader.GetString(0)), reader.GetInt64(1)));
        return claims;
    }

    /// <summary>How many changed VMs wait for an evaluation (claimed or not).</summary>
    public async Task<long> PendingAsync(CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, "SELECT COUNT(*) FROM posture_vm_changes");
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Inside the batch's transaction: each claimed VM's row removed while the claim is still <paramref name="claimant"/>'s
    /// and the VM was not written since it was claimed; a VM written since keeps its row, unclaimed, for another evaluation.
    /// False (the batch is not written) when a claim is no longer the claimant's.
    /// </summary>
    internal static async Task<bool> ReleaseAsync(DbConnection connection, DbTransaction transaction, string? claimant,
        IReadOnlyList<VmChangeClaim> claims, CancellationToken cancellationToken)
    {
        if (claims.Count == 0)
            return true;
        await using DbCommand done = SqlCommands.Create(connection, transaction,
            "DELETE FROM posture_vm_changes WHERE vm_id = @v AND claimed_by = @me AND change_seq = @seq").With("@me", claimant).With("@v", "").With("@seq", 0L);
        await using DbCommand again = SqlCommands.Create(connection, transaction,
            "UPDATE posture_vm_changes SET claimed_by = NULL, claimed_until = NULL WHERE vm_id = @v AND claimed_by = @me").With("@me", claimant).With("@v", "");
        foreach (VmChangeClaim claim in claims)
        {
            done.Parameters["@v"].Value = again.Parameters["@v"].Value = claim.VmId.ToString("D");
            done.Parameters["@seq"].Value = claim.ChangeSequence;
            if (await done.ExecuteNonQueryAsync(cancellationToken) != 1 && await again.ExecuteNonQueryAsync(cancellationToken) != 1)
                return false;
        }

        return true;
    }

    // The cursor and the VMs written after it, oldest change first.
    private static async Task<(long Cursor, List<(Guid VmId, long Sequence)> Changed)> ChangedAsync(DbConnection connection, DbTransaction? transaction,
        int limit, CancellationToken cancellationToken)
    {
        long cursor;
        await using (DbCommand read = SqlCommands.Create(connection, transaction, "SELECT value FROM posture_cursors WHERE name = @n").With("@n", Cursor))
            cursor = await read.ExecuteScalarAsync(cancellationToken) is long value ? value : 0;
        await using DbCommand command = SqlCommands.Create(connection, transaction,
            "SELECT vm_id, change_seq FROM virtual_machines WHERE change_seq > @after ORDER BY change_seq LIMIT @limit").With("@after", cursor).With("@limit", limit);
        var changed = new List<(Guid, long)>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            changed.Add((Guid.Parse(reader.GetString(0)), reader.GetInt64(1)));
        return (cursor, changed);
    }
}

/// <summary>A changed VM claimed for an evaluation: written up to <paramref name="ChangeSequence"/> when it was fed.</summary>
public readonly record struct VmChangeClaim(Guid VmId, long ChangeSequence);
