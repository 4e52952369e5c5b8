using System.Data.Common;

namespace TrustedLaunch.Server.Stores.Sql;

/// <summary><see cref="IAttestationResultStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL).</summary>
public sealed class SqlAttestationResultStore(StoreDatabase database) : IAttestationResultStore
{
    private const string Columns = "id, vm_id, at, verdict, reason, component, message, claims_json, token_id";

    public Task<AttestationRecord> AddAsync(AttestationRecord record, CancellationToken cancellationToken) =>
        AddAsync(record, AttestationStateWrites.None, cancellationToken);

    public async Task<AttestationRecord> AddAsync(AttestationRecord record, AttestationStateWrites writes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(writes);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The quote clock and a learned baseline first, in the order every writer takes these rows (no deadlock on PostgreSQL).
        if (writes.QuoteClock is { } clock)
        {
            await using DbCommand advance = SqlQuoteClockStore.AdvanceCommand(connection, transaction, record.VmId, clock, writes.At);
            await advance.ExecuteNonQueryAsync(cancellationToken);
        }

        if (writes.LearnedBaselineJson is { } baselineJson)
        {
            await using DbCommand save = SqlBaselineStore.SaveCommand(connection, transaction, record.VmId, baselineJson, writes.At);
            await save.ExecuteNonQueryAsync(cancellationToken);
        }

        // The VM's posture work first: its row lock (PostgreSQL) orders the results of one VM by commit, and a claim
        // (FOR UPDATE SKIP LOCKED) passes over a VM whose result is being stored (docs/scale-out.md, posture work).
        await using (DbCommand work = SqlCommands.Prepared(connection, transaction,
                "INSERT INTO posture_work (vm_id, stored_seq, done_seq, folded_result_id) VALUES (@vm, 1, 0, 0) " +
                "ON CONFLICT (vm_id) DO UPDATE SET stored_seq = posture_work.stored_seq + 1")
            .With("@vm", SqlNonceStore.VmKey(record.VmId)))
        {
            await work.ExecuteNonQueryAsync(cancellationToken);
        }

        await using DbCommand command = SqlCommands.Prepared(connection, transaction, """
            INSERT INTO attestation_results (vm_id, at, verdict, reason, component, message, claims_json, token_id)
            VALUES (@vm, @at, @verdict, @reason, @component, @message, @claims, @token)
            RETURNING id
            """);
        command.With("@vm", SqlNonceStore.VmKey(record.VmId));
        command.With("@at", StoreDatabase.ToUnixMilliseconds(record.At));
        command.With("@verdict", record.Verdict == AttestationVerdict.Pass ? "pass" : "fail");
        command.With("@reason", (object?)record.Reason ?? DBNull.Value);
        command.With("@component", (object?)record.Component ?? DBNull.Value);
        command.With("@message", (object?)record.Message ?? DBNull.Value);
        command.With("@claims", (object?)record.ClaimsJson ?? DBNull.Value);
        command.With("@token", (object?)record.TokenId ?? DBNull.Value);
        long id = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return record with { Id = id };
    }

    public async Task<IReadOnlyList<AttestationRecord>> ListAsync(Guid vmId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM attestation_results WHERE vm_id = @vm ORDER BY id DESC LIMIT @limit";
        command.With("@vm", SqlNonceStore.VmKey(vmId));
        command.With("@limit", limit);
        var records = new List<AttestationRecord>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            records.Add(Read(reader));
        return records;
    }

    public async Task<AttestationRecord?> GetLatestAsync(Guid vmId, CancellationToken cancellationToken)
    {
        IReadOnlyList<AttestationRecord> latest = await ListAsync(vmId, 1, cancellationToken);
        return latest.Count == 0 ? null : latest[0];
    }

    private static AttestationRecord Read(DbDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        VmId = Guid.Parse(reader.GetString(1)),
        At = StoreDatabase.FromUnixMilliseconds(reader.GetInt64(2)),
        Verdict = reader.GetString(3) == "pass" ? AttestationVerdict.Pass : AttestationVerdict.Fail,
        Reason = reader.IsDBNull(4) ? null : reader.GetString(4),
        Component = reader.IsDBNull(5) ? null : reader.GetString(5),
        Message = reader.IsDBNull(6) ? null : reader.GetString(6),
        ClaimsJson = reader.IsDBNull(7) ? null : reader.GetString(7),
        TokenId = reader.IsDBNull(8) ? null : reader.GetString(8),
    };
}
