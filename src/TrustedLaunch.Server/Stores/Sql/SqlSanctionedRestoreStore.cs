using System.Data.Common;
using TrustedLaunch.Attestation;

namespace TrustedLaunch.Server.Stores.Sql;

/// <summary>
/// <see cref="ISanctionedRestoreStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL): the restore row and the
/// quote clock's new floor commit together.
/// </summary>
public sealed class SqlSanctionedRestoreStore(StoreDatabase database) : ISanctionedRestoreStore
{
    public async Task RecordAsync(SanctionedRestore restore, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(restore);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using DbTransaction transaction = await database.BeginWriteTransactionAsync(connection, cancellationToken);
        QuoteClock? floor = restore.Floor;
        await using (DbCommand insert = SqlCommands.Create(connection, transaction, """
            INSERT INTO sanctioned_restores (vm_id, restored_at, source, floor_reset_count, floor_restart_count, floor_clock, floor_safe)
            VALUES (@vm, @at, @source, @reset, @restart, @clock, @safe)
            """))
        {
            Bind(insert, restore.VmId, restore.RestoredAt, floor).With("@source", restore.Source);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        // Unconditionally, unlike SqlQuoteClockStore.AdvanceAsync: this is the one sanctioned step back.
        await using (DbCommand clock = SqlCommands.Create(connection, transaction, floor is null
            ? "DELETE FROM quote_clocks WHERE vm_id = @vm"
            : """
              INSERT INTO quote_clocks (vm_id, reset_count, restart_count, clock, safe, seen_at) VALUES (@vm, @reset, @restart, @clock, @safe, @at)
              ON CONFLICT (vm_id) DO UPDATE SET reset_count = excluded.reset_count, restart_count = excluded.restart_count,
                  clock = excluded.clock, safe = excluded.safe, seen_at = excluded.seen_at
              """))
        {
            Bind(clock, restore.VmId, restore.RestoredAt, floor);
            await clock.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<SanctionedRestore>> ListAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, """
            SELECT restored_at, source, floor_reset_count, floor_restart_count, floor_clock, floor_safe
            FROM sanctioned_restores WHERE vm_id = @vm ORDER BY restored_at, id
            """).With("@vm", SqlNonceStore.VmKey(vmId));
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        var restores = new List<SanctionedRestore>();
        while (await reader.ReadAsync(cancellationToken))
        {
            QuoteClock? floor = reader.IsDBNull(2) ? null
                : new QuoteClock((ulong)reader.GetInt64(4), (uint)reader.GetInt64(2), (uint)reader.GetInt64(3), reader.GetInt64(5) != 0);
            restores.Add(new SanctionedRestore(vmId, reader.GetString(1), floor, StoreDatabase.FromUnixMilliseconds(reader.GetInt64(0))));
        }

        return restores;
    }

    private static DbCommand Bind(DbCommand command, Guid vmId, DateTimeOffset at, QuoteClock? floor) => command
        .With("@vm", SqlNonceStore.VmKey(vmId))
        .With("@at", StoreDatabase.ToUnixMilliseconds(at))
        .With("@reset", floor is null ? null : (long)floor.ResetCount)
        .With("@restart", floor is null ? null : (long)floor.RestartCount)
        .With("@clock", floor is null ? null : checked((long)floor.Clock))
        .With("@safe", floor is null ? null : floor.Safe ? 1 : 0);
}
