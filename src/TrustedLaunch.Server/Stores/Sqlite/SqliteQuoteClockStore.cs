using Microsoft.Data.Sqlite;
using TrustedLaunch.Attestation;

namespace TrustedLaunch.Server.Stores.Sqlite;

/// <summary><see cref="IQuoteClockStore"/> on SQLite.</summary>
public sealed class SqliteQuoteClockStore(SqliteDatabase database) : IQuoteClockStore
{
    public async Task<StoredQuoteClock?> GetAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT clock, reset_count, restart_count, safe, seen_at FROM quote_clocks WHERE vm_id = $vm";
        command.Parameters.AddWithValue("$vm", SqliteNonceStore.VmKey(vmId));
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;
        var clock = new QuoteClock((ulong)reader.GetInt64(0), (uint)reader.GetInt64(1), (uint)reader.GetInt64(2), reader.GetInt64(3) != 0);
        return new StoredQuoteClock(clock, SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(4)));
    }

    public async Task AdvanceAsync(Guid vmId, QuoteClock clock, DateTimeOffset seenAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clock);
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using SqliteCommand command = writer.Connection.CreateCommand();
        // The row-value comparison is QuoteClock.RegressionFrom's order; a slower request with an older quote loses.
        command.CommandText = """
            INSERT INTO quote_clocks (vm_id, reset_count, restart_count, clock, safe, seen_at) VALUES ($vm, $reset, $restart, $clock, $safe, $at)
            ON CONFLICT (vm_id) DO UPDATE SET reset_count = excluded.reset_count, restart_count = excluded.restart_count,
                clock = excluded.clock, safe = excluded.safe, seen_at = excluded.seen_at
            WHERE (excluded.reset_count, excluded.restart_count, excluded.clock) > (quote_clocks.reset_count, quote_clocks.restart_count, quote_clocks.clock)
            """;
        command.Parameters.AddWithValue("$vm", SqliteNonceStore.VmKey(vmId));
        command.Parameters.AddWithValue("$reset", (long)clock.ResetCount);
        command.Parameters.AddWithValue("$restart", (long)clock.RestartCount);
        command.Parameters.AddWithValue("$clock", checked((long)clock.Clock));
        command.Parameters.AddWithValue("$safe", clock.Safe ? 1 : 0);
        command.Parameters.AddWithValue("$at", SqliteDatabase.ToUnixMilliseconds(seenAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
