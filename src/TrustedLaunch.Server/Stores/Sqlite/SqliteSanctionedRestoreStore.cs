using Microsoft.Data.Sqlite;
using TrustedLaunch.Attestation;

namespace TrustedLaunch.Server.Stores.Sqlite;

/// <summary><see cref="ISanctionedRestoreStore"/> on SQLite: the restore row and the quote clock's new floor commit together.</summary>
public sealed class SqliteSanctionedRestoreStore(SqliteDatabase database) : ISanctionedRestoreStore
{
    public async Task RecordAsync(SanctionedRestore restore, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(restore);
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        SqliteConnection connection = writer.Connection;
        await using SqliteTransaction transaction = connection.BeginTransaction(deferred: false);
        QuoteClock? floor = restore.Floor;
        await using (SqliteCommand insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO sanctioned_restores (vm_id, restored_at, source, floor_reset_count, floor_restart_count, floor_clock, floor_safe)
                VALUES ($vm, $at, $source, $reset, $restart, $clock, $safe)
                """;
            Bind(insert, restore.VmId, restore.RestoredAt, floor);
            insert.Parameters.AddWithValue("$source", restore.Source);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        // Unconditionally, unlike SqliteQuoteClockStore.AdvanceAsync: this is the one sanctioned step back.
        await using (SqliteCommand clock = connection.CreateCommand())
        {
            clock.Transaction = transaction;
            clock.CommandText = floor is null
                ? "DELETE FROM quote_clocks WHERE vm_id = $vm"
                : """
                  INSERT INTO quote_clocks (vm_id, reset_count, restart_count, clock, safe, seen_at) VALUES ($vm, $reset, $restart, $clock, $safe, $at)
                  ON CONFLICT (vm_id) DO UPDATE SET reset_count = excluded.reset_count, restart_count = excluded.restart_count,
                      clock = excluded.clock, safe = excluded.safe, seen_at = excluded.seen_at
                  """;
            Bind(clock, restore.VmId, restore.RestoredAt, floor);
            await clock.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<SanctionedRestore>> ListAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            SELECT restored_at, source, floor_reset_count, floor_restart_count, floor_clock, floor_safe
            FROM sanctioned_restores WHERE vm_id = $vm ORDER BY restored_at, rowid
            """;
        command.Parameters.AddWithValue("$vm", SqliteNonceStore.VmKey(vmId));
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        var restores = new List<SanctionedRestore>();
        while (await reader.ReadAsync(cancellationToken))
        {
            QuoteClock? floor = reader.IsDBNull(2) ? null
                : new QuoteClock((ulong)reader.GetInt64(4), (uint)reader.GetInt64(2), (uint)reader.GetInt64(3), reader.GetInt64(5) != 0);
            restores.Add(new SanctionedRestore(vmId, reader.GetString(1), floor, SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(0))));
        }

        return restores;
    }

    private static void Bind(SqliteCommand command, Guid vmId, DateTimeOffset at, QuoteClock? floor)
    {
        command.Parameters.AddWithValue("$vm", SqliteNonceStore.VmKey(vmId));
        command.Parameters.AddWithValue("$at", SqliteDatabase.ToUnixMilliseconds(at));
        command.Parameters.AddWithValue("$reset", floor is null ? DBNull.Value : (long)floor.ResetCount);
        command.Parameters.AddWithValue("$restart", floor is null ? DBNull.Value : (long)floor.RestartCount);
        command.Parameters.AddWithValue("$clock", floor is null ? DBNull.Value : checked((long)floor.Clock));
        command.Parameters.AddWithValue("$safe", floor is null ? DBNull.Value : floor.Safe ? 1 : 0);
    }
}
