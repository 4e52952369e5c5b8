using System.Data.Common;
using TrustedLaunch.Attestation;

namespace TrustedLaunch.Server.Stores.Sql;

/// <summary><see cref="IQuoteClockStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL).</summary>
public sealed class SqlQuoteClockStore(StoreDatabase database) : IQuoteClockStore
{
    public async Task<StoredQuoteClock?> GetAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = "SELECT clock, reset_count, restart_count, safe, seen_at FROM quote_clocks WHERE vm_id = @vm";
        command.With("@vm", SqlNonceStore.VmKey(vmId));
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;
        var clock = new QuoteClock((ulong)reader.GetInt64(0), (uint)reader.GetInt64(1), (uint)reader.GetInt64(2), reader.GetInt64(3) != 0);
        return new StoredQuoteClock(clock, StoreDatabase.FromUnixMilliseconds(reader.GetInt64(4)));
    }

    public async Task AdvanceAsync(Guid vmId, QuoteClock clock, DateTimeOffset seenAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clock);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = AdvanceCommand(writer.Connection, null, vmId, clock, seenAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The conditional upsert that moves the VM's clock on, for this store and for a result's transaction.</summary>
    internal static DbCommand AdvanceCommand(DbConnection connection, DbTransaction? transaction, Guid vmId, QuoteClock clock, DateTimeOffset seenAt) =>
        // The row-value comparison is QuoteClock.RegressionFrom's order; a slower request with an older quote loses.
        SqlCommands.Prepared(connection, transaction, """
            INSERT INTO quote_clocks (vm_id, reset_count, restart_count, clock, safe, seen_at) VALUES (@vm, @reset, @restart, @clock, @safe, @at)
            ON CONFLICT (vm_id) DO UPDATE SET reset_count = excluded.reset_count, restart_count = excluded.restart_count,
                clock = excluded.clock, safe = excluded.safe, seen_at = excluded.seen_at
            WHERE (excluded.reset_count, excluded.restart_count, excluded.clock) > (quote_clocks.reset_count, quote_clocks.restart_count, quote_clocks.clock)
            """)
            .With("@vm", SqlNonceStore.VmKey(vmId))
            .With("@reset", (long)clock.ResetCount)
            .With("@restart", (long)clock.RestartCount)
            .With("@clock", checked((long)clock.Clock))
            .With("@safe", clock.Safe ? 1 : 0)
            .With("@at", StoreDatabase.ToUnixMilliseconds(seenAt));
}
