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
        if (connection.CanCreateBatch)
            return await AddBatchedAsync(connection, null, record, writes, cancellationToken);

        await using DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken);
        AttestationRecord stored = await AddStatementsAsync(connection, transaction, record, writes, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return stored;
    }

    // The nonce's spend opens the result's transaction: a nonce that cannot be spent stores nothing, and a write that fails
    // rolls the spend back. One write turn and one commit where the spend and the result were two of each (issue 19).
    public async Task<SpentResult> AddSpendingNonceAsync(AttestationRecord record, AttestationStateWrites writes, ReadOnlyMemory<byte> nonce,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(writes);
        byte[] value = nonce.ToArray();
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken);
        bool spent;
        await using (DbCommand spend = SqlNonceStore.SpendCommand(connection, transaction, record.VmId, value, writes.At))
            spent = await spend.ExecuteScalarAsync(cancellationToken) is not null;
        if (!spent)
        {
            await transaction.RollbackAsync(cancellationToken);
            return new SpentResult(await SqlNonceStore.WhyNotSpentAsync(connection, record.VmId, value, cancellationToken), null);
        }

        // PostgreSQL: the result's statements as one batch inside the transaction (BEGIN and the spend, the batch, COMMIT:
        // three round trips and one commit, where the spend's own commit and the batch were two of each).
        AttestationRecord stored = connection.CanCreateBatch
            ? await AddBatchedAsync(connection, transaction, record, writes, cancellationToken)
            : await AddStatementsAsync(connection, transaction, record, writes, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new SpentResult(NonceConsumption.Consumed, stored);
    }

    private static async Task<AttestationRecord> AddStatementsAsync(DbConnection connection, DbTransaction transaction, AttestationRecord record,
        AttestationStateWrites writes, CancellationToken cancellationToken)
    {
        DbCommand[] statements = Statements(connection, transaction, record, writes, out int insert);
        try
        {
            for (int i = 0; i < insert; i++)
                await statements[i].ExecuteNonQueryAsync(cancellationToken);
            long id = (long)(await statements[insert].ExecuteScalarAsync(cancellationToken))!;
            bool folded = statements.Length > insert + 1 && await statements[insert + 1].ExecuteScalarAsync(cancellationToken) is not null;
            return record with { Id = id, PostureFolded = folded };
        }
        finally
        {
            foreach (DbCommand statement in statements)
                await statement.DisposeAsync();
        }
    }

    // PostgreSQL: the statements as one batch, which the server runs in one implicit transaction (all or nothing) and
    // answers in one round trip, where BEGIN, each statement and COMMIT were one round trip each; or inside
    // <paramref name="transaction"/> when one is open.
    private static async Task<AttestationRecord> AddBatchedAsync(DbConnection connection, DbTransaction? transaction, AttestationRecord record,
        AttestationStateWrites writes, CancellationToken cancellationToken)
    {
        await using DbBatch batch = connection.CreateBatch();
        batch.Transaction = transaction;
        foreach (DbCommand statement in Statements(connection, null, record, writes, out _))
        {
            await using (statement)
            {
                DbBatchCommand command = batch.CreateBatchCommand();
                command.CommandText = statement.CommandText;
                foreach (DbParameter parameter in statement.Parameters)
                {
                    DbParameter copy = command.CreateParameter();
                    copy.ParameterName = parameter.ParameterName;
                    copy.Value = parameter.Value;
                    command.Parameters.Add(copy);
                }

                batch.BatchCommands.Add(command);
            }
        }

        // Rows come from the result's INSERT … RETURNING id and, when the result repeats what posture concluded, the fold's
        // RETURNING repeat_count.
        long? id = null;
        bool folded = false;
        await using DbDataReader reader = await batch.ExecuteReaderAsync(cancellationToken);
        do
        {
            bool isId = reader.FieldCount > 0 && reader.GetName(0) == "id";
            while (await reader.ReadAsync(cancellationToken))
            {
                if (isId)
                    id = reader.GetInt64(0);
                else
                    folded = true;
            }
        }
        while (await reader.NextResultAsync(cancellationToken));
        return record with { Id = id ?? throw new StoreException("The attestation result's insert returned no id."), PostureFolded = folded };
    }

    // In the order every writer takes these rows (no deadlock on PostgreSQL): the quote clock and a learned baseline, then
    // the VM's posture work row — its lock (PostgreSQL) orders the results of one VM by commit, and a claim (FOR UPDATE
    // SKIP LOCKED) passes over a VM whose result is being stored (docs/scale-out.md, posture work) — then the result.
    // Then, with a posture fingerprint, the fold where the result is stored (docs/posture.md): the VM's work row moves past
    // this result, and counts one more repeat under its mark (which the alerts carrying the mark's tag add to their own),
    // only when nothing else of the VM is pending or claimed and the result is the repeat posture marked, for the VM and
    // settings as they still are. One statement, on the row this transaction already holds.
    private static DbCommand[] Statements(DbConnection connection, DbTransaction? transaction, AttestationRecord record, AttestationStateWrites writes,
        out int insert)
    {
        var statements = new List<DbCommand>(4);
        try
        {
            if (writes.QuoteClock is { } clock)
                statements.Add(SqlQuoteClockStore.AdvanceCommand(connection, transaction, record.VmId, clock, writes.At));
            if (writes.LearnedBaselineJson is { } baselineJson)
                statements.Add(SqlBaselineStore.SaveCommand(connection, transaction, record.VmId, baselineJson, writes.At));
            statements.Add(SqlCommands.Prepared(connection, transaction,
                    "INSERT INTO posture_work (vm_id, stored_seq, done_seq, folded_result_id) VALUES (@vm, 1, 0, 0) " +
                    "ON CONFLICT (vm_id) DO UPDATE SET stored_seq = posture_work.stored_seq + 1")
                .With("@vm", SqlNonceStore.VmKey(record.VmId)));
            statements.Add(SqlCommands.Prepared(connection, transaction, """
                    INSERT INTO attestation_results (vm_id, at, verdict, reason, component, message, claims_json, token_id)
                    VALUES (@vm, @at, @verdict, @reason, @component, @message, @claims, @token)
                    RETURNING id
                    """)
                .With("@vm", SqlNonceStore.VmKey(record.VmId))
                .With("@at", StoreDatabase.ToUnixMilliseconds(record.At))
                .With("@verdict", record.Verdict == AttestationVerdict.Pass ? "pass" : "fail")
                .With("@reason", record.Reason)
                .With("@component", record.Component)
                .With("@message", record.Message)
                .With("@claims", record.ClaimsJson)
                .With("@token", record.TokenId));
            insert = statements.Count - 1;
            if (writes.PostureFingerprint is { Length: > 0 } fingerprint)
            {
                statements.Add(SqlCommands.Prepared(connection, transaction, """
                        UPDATE posture_work SET done_seq = stored_seq, folded_result_id = (SELECT MAX(id) FROM attestation_results WHERE vm_id = @vm),
                          repeat_count = repeat_count + 1, repeat_last_at = CASE WHEN repeat_last_at < @at THEN @at ELSE repeat_last_at END,
                          repeat_last_result = (SELECT MAX(id) FROM attestation_results WHERE vm_id = @vm)
                        WHERE vm_id = @vm AND done_seq = stored_seq - 1 AND claimed_by IS NULL AND repeat_fp IN (@fp, '*')
                          AND repeat_vm_seq = COALESCE((SELECT change_seq FROM virtual_machines WHERE vm_id = @vm), -1)
                          AND repeat_settings = (SELECT value FROM security_settings_version WHERE id = 1)
                        RETURNING repeat_count
                        """)
                    .With("@vm", SqlNonceStore.VmKey(record.VmId)).With("@fp", fingerprint).With("@at", StoreDatabase.ToUnixMilliseconds(record.At)));
            }

            return [.. statements];
        }
        catch
        {
            // A kept SQLite statement forgets its parameters only when disposed: never leave one bound for its next user.
            foreach (DbCommand statement in statements)
                statement.Dispose();
            throw;
        }
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
