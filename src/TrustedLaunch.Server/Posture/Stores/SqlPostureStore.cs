using System.Text.Json;
using System.Data.Common;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;

namespace TrustedLaunch.Server.Posture.Stores;

/// <summary>
/// Posture's evaluation state on <see cref="StoreDatabase"/>: assessments and their history, alerts, the cursors over attestation results
/// and VM changes, the VMs' observed boots and remediations. <see cref="ApplyAsync"/> writes one evaluation pass in one
/// transaction. Reads the attestation results and the VMs' change sequence of the same database.
/// </summary>
public sealed class SqlPostureStore(StoreDatabase database)
{
    public const string VmChangesCursor = "vm-changes";
    public const string FanOutCursor = "webhook-fan-out";

    private static readonly string[] AssessmentParameters = ["@v", "@k", "@s", "@g", "@r", "@status", "@cause", "@d", "@first", "@changed"];

    private const string AssessmentColumns =
        "vm_id, assessment_key, subscription_id, group_key, resource_id, status, cause, description, first_evaluated_at, status_changed_at";

    public async Task<long> GetCursorAsync(string name, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, "SELECT value FROM posture_cursors WHERE name = @n").With("@n", name);
        return await command.ExecuteScalarAsync(cancellationToken) is long value ? value : 0;
    }

    /// <summary>
    /// For each VM (all, or those given): its newest result and when its agent last answered with evidence. One query
    /// each way, whatever the number of VMs.
    /// </summary>
    public async Task<Dictionary<Guid, (AttestationRecord? Latest, DateTimeOffset? LastAnswer)>> LatestResultsAsync(IReadOnlyCollection<Guid>? vmIds,
        CancellationToken cancellationToken)
    {
        var latest = new Dictionary<Guid, (AttestationRecord? Latest, DateTimeOffset? LastAnswer)>();
        if (vmIds is { Count: 0 })
            return latest;
        // Driven by posture_work (one row per VM with results): two index probes per VM on (vm_id, id), the newest result
        // and the newest answer, whatever the length of its history (an aggregate over the VM's results grew with it).
        string filter = vmIds is null ? "" : $" WHERE w.vm_id IN ({string.Join(",", vmIds.Select((_, i) => "@v" + i))})";
        string columns = string.Join(", ", ResultColumnNames.Select(c => "r." + c));
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        // The probes in a derived table, then the newest result by its key: a join on the probe itself is planned (SQLite)
        // as a scan of the results with the probe per row.
        await using DbCommand command = SqlCommands.Create(connection, null,
            $"SELECT {columns}, l.answered FROM (SELECT (SELECT MAX(x.id) FROM attestation_results x WHERE x.vm_id = w.vm_id) AS latest_id, " +
            "(SELECT a.at FROM attestation_results a WHERE a.vm_id = w.vm_id AND (a.verdict = 'pass' OR a.reason NOT IN ('AgentUnresponsive', 'NonceRejected')) " +
            "ORDER BY a.id DESC LIMIT 1) AS answered FROM posture_work w" + filter + ") l JOIN attestation_results r ON r.id = l.latest_id");
        Bind(command, vmIds);
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            AttestationRecord record = ReadResult(reader);
            latest[record.VmId] = (record, SqlCommands.NullableInt64(reader, ResultColumnNames.Length) is long at ? StoreDatabase.FromUnixMilliseconds(at) : null);
        }

        return latest;
    }

    public async Task<Dictionary<Guid, VmBootState>> BootStatesAsync(CancellationToken cancellationToken) =>
        (await ObservedVmsAsync(null, cancellationToken)).ToDictionary(p => p.Key, p => p.Value.Boot);

    /// <summary>
    /// The observed boots of <paramref name="vmIds"/> (null: of every VM), each with the version of the VM's stored
    /// assessments (counted up by every batch that writes them); a VM never observed has none.
    /// </summary>
    public async Task<Dictionary<Guid, ObservedVm>> ObservedVmsAsync(IReadOnlyCollection<Guid>? vmIds, CancellationToken cancellationToken)
    {
        var states = new Dictionary<Guid, ObservedVm>();
        if (vmIds is { Count: 0 })
            return states;
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        string filter = vmIds is null ? "" : $" WHERE vm_id IN ({string.Join(",", vmIds.Select((_, i) => "@v" + i))})";
        await using DbCommand command = SqlCommands.Create(connection, null,
            "SELECT vm_id, running, restart_generation, running_since, assessments_version FROM posture_vm_state" + filter);
        Bind(command, vmIds);
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var vmId = Guid.Parse(reader.GetString(0));
            states[vmId] = new ObservedVm(new VmBootState(vmId, reader.GetInt64(1) != 0, reader.GetInt64(2),
                SqlCommands.NullableInt64(reader, 3) is long since ? StoreDatabase.FromUnixMilliseconds(since) : null), reader.GetInt64(4));
        }

        return states;
    }

    /// <summary>The change sequence of each of <paramref name="vmIds"/> the control plane holds: one narrow read, no model.</summary>
    public async Task<Dictionary<Guid, long>> VmChangeSequencesAsync(IReadOnlyCollection<Guid> vmIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vmIds);
        var sequences = new Dictionary<Guid, long>(vmIds.Count);
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        foreach (Guid[] chunk in vmIds.Chunk(500))
        {
            await using DbCommand command = SqlCommands.Create(connection, null,
                $"SELECT vm_id, change_seq FROM virtual_machines WHERE vm_id IN ({string.Join(",", chunk.Select((_, i) => "@v" + i))})");
            Bind(command, chunk);
            await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                sequences[Guid.Parse(reader.GetString(0))] = reader.GetInt64(1);
        }

        return sequences;
    }

    /// <summary>Stored assessments: of one subscription (and group, and VM) or, with <paramref name="subscriptionId"/> null, all.</summary>
    public async Task<IReadOnlyList<StoredAssessment>> ListAssessmentsAsync(string? subscriptionId, string? resourceGroup, Guid? vmId,
        CancellationToken cancellationToken)
    {
        var where = new List<string>();
        if (subscriptionId is not null)
            where.Add("subscription_id = @s");
        if (resourceGroup is not null)
            where.Add("group_key = @g");
        if (vmId is not null)
            where.Add("vm_id = @v");
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
                $"SELECT {AssessmentColumns} FROM security_assessments{(where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where))} ORDER BY resource_id, assessment_key")
            .With("@s", subscriptionId is null ? null : SqlResourceGroupStore.Subscription(subscriptionId))
            .With("@g", resourceGroup is null ? null : ResourceIds.Key(resourceGroup)).With("@v", vmId?.ToString("D"));
        var list = new List<StoredAssessment>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            list.Add(ReadAssessment(reader));
        return list;
    }

    /// <summary>The stored assessments of each of <paramref name="vmIds"/> by key, in one query (a VM with none has an empty map).</summary>
    public async Task<Dictionary<Guid, Dictionary<string, StoredAssessment>>> AssessmentsOfAsync(IReadOnlyCollection<Guid> vmIds,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vmIds);
        var assessments = vmIds.ToDictionary(id => id, _ => new Dictionary<string, StoredAssessment>(StringComparer.OrdinalIgnoreCase));
        if (vmIds.Count == 0)
            return assessments;
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
            $"SELECT {AssessmentColumns} FROM security_assessments WHERE vm_id IN ({string.Join(",", vmIds.Select((_, i) => "@v" + i))})");
        Bind(command, vmIds);
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            StoredAssessment assessment = ReadAssessment(reader);
            assessments[assessment.VmId][assessment.Key] = assessment;
        }

        return assessments;
    }

    public async Task<IReadOnlyList<AssessmentHistoryEntry>> HistoryAsync(Guid vmId, string key, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
                "SELECT status, cause, description, at FROM security_assessment_history WHERE vm_id = @v AND assessment_key = @k ORDER BY id")
            .With("@v", vmId.ToString("D")).With("@k", key);
        var list = new List<AssessmentHistoryEntry>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new AssessmentHistoryEntry(SqlCommands.ParseEnum<AssessmentStatusCode>(reader.GetString(0)), SqlCommands.NullableString(reader, 1),
                reader.GetString(2), StoreDatabase.FromUnixMilliseconds(reader.GetInt64(3))));
        }

        return list;
    }

    public async Task<SecurityAlert?> GetAlertAsync(string subscriptionId, string name, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
            $"{AlertRows.Select(database.Dialect)} WHERE a.name = @n AND a.subscription_id = @s").With("@n", name)
            .With("@s", SqlResourceGroupStore.Subscription(subscriptionId));
        return await AlertRows.ReadOneAsync(command, cancellationToken);
    }

    /// <summary>Alerts of a subscription (or one of its groups), newest first.</summary>
    public async Task<IReadOnlyList<SecurityAlert>> ListAlertsAsync(string subscriptionId, string? resourceGroup, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
                $"{AlertRows.Select(database.Dialect)} WHERE a.subscription_id = @s{(resourceGroup is null ? "" : " AND a.group_key = @g")} ORDER BY a.name")
            .With("@s", SqlResourceGroupStore.Subscription(subscriptionId)).With("@g", resourceGroup is null ? null : ResourceIds.Key(resourceGroup));
        return await AlertRows.ReadAllAsync(command, cancellationToken);
    }

    /// <summary>The open (Active or InProgress) alerts of one VM.</summary>
    public async Task<IReadOnlyList<SecurityAlert>> OpenAlertsAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
            $"{AlertRows.Select(database.Dialect)} WHERE a.vm_id = @v AND a.status IN ('Active', 'InProgress')").With("@v", vmId.ToString("D"));
        return await AlertRows.ReadAllAsync(command, cancellationToken);
    }

    /// <summary>The open alerts of each of <paramref name="vmIds"/>, in one query (a VM with none has an empty list).</summary>
    public async Task<Dictionary<Guid, List<SecurityAlert>>> OpenAlertsOfAsync(IReadOnlyCollection<Guid> vmIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vmIds);
        var open = vmIds.ToDictionary(id => id, _ => new List<SecurityAlert>());
        if (vmIds.Count == 0)
            return open;
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
            $"{AlertRows.Select(database.Dialect)} WHERE a.status IN ('Active', 'InProgress') AND a.vm_id IN ({string.Join(",", vmIds.Select((_, i) => "@v" + i))})");
        Bind(command, vmIds);
        foreach (SecurityAlert alert in await AlertRows.ReadAllAsync(command, cancellationToken))
            open[alert.VmId].Add(alert);
        return open;
    }

    /// <summary>The VM's newest alert with <paramref name="dedupKey"/>, whatever its status (null: none).</summary>
    public async Task<SecurityAlert?> LatestAlertAsync(Guid vmId, string dedupKey, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        // Names begin with reverse ticks: the first by name is the newest.
        await using DbCommand command = SqlCommands.Create(connection, null,
            $"{AlertRows.Select(database.Dialect)} WHERE a.vm_id = @v AND a.dedup_key = @d ORDER BY a.name LIMIT 1").With("@v", vmId.ToString("D")).With("@d", dedupKey);
        return await AlertRows.ReadOneAsync(command, cancellationToken);
    }

    public async Task<RemediationRecord?> GetRemediationAsync(Guid vmId, string key, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
            "SELECT remediation_json FROM security_remediations WHERE vm_id = @v AND assessment_key = @k").With("@v", vmId.ToString("D")).With("@k", key);
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? JsonSerializer.Deserialize(json, PostureJson.Default.RemediationRecord) : null;
    }

    /// <summary>Stores a remediation; with <paramref name="onlyIfNotRunning"/>, fails (false) when one is in progress for the VM.</summary>
    public async Task<bool> SaveRemediationAsync(RemediationRecord remediation, bool onlyIfNotRunning, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remediation);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        string condition = onlyIfNotRunning ? $" WHERE {database.Dialect.JsonText("security_remediations.remediation_json", "status")} <> 'InProgress'" : "";
        await using DbCommand command = SqlCommands.Create(writer.Connection, null,
                "INSERT INTO security_remediations (vm_id, assessment_key, remediation_json) VALUES (@v, @k, @j) " +
                $"ON CONFLICT (vm_id, assessment_key) DO UPDATE SET remediation_json = excluded.remediation_json{condition}")
            .With("@v", remediation.VmId.ToString("D")).With("@k", remediation.Key)
            .With("@j", JsonSerializer.Serialize(remediation, PostureJson.Default.RemediationRecord));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<RemediationRecord>> RunningRemediationsAsync(CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
            $"SELECT remediation_json FROM security_remediations WHERE {database.Dialect.JsonText("remediation_json", "status")} = 'InProgress'");
        var list = new List<RemediationRecord>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            list.Add(JsonSerializer.Deserialize(reader.GetString(0), PostureJson.Default.RemediationRecord)!);
        return list;
    }

    /// <summary>
    /// Writes one evaluation pass (see <see cref="PostureBatch"/>) in one transaction, if every cursor, assessment, boot
    /// state and alert it names is still as the evaluation read it; otherwise writes nothing and answers false.
    /// </summary>
    public async Task<bool> ApplyAsync(PostureBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.IsEmpty)
            return true;
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using var transaction = await database.BeginWriteTransactionAsync(connection, cancellationToken);
        HashSet<Guid> written = WrittenOtherwise(batch);
        await SqlPostureWork.LockAsync(connection, transaction, database.Dialect, written.Concat(batch.Releases.Select(r => r.VmId)), cancellationToken);
        if (written.Count > 0)
            await SqlPostureWork.ClearRepeatsAsync(connection, transaction, written, cancellationToken);
        bool current = await SqlPostureWork.ReleaseAsync(connection, transaction, database.Dialect, batch.Claimant, batch.Releases, batch.Repeats,
                cancellationToken)
            && await SqlPostureVmChanges.ReleaseAsync(connection, transaction, batch.Claimant, batch.VmChanges, cancellationToken)
            && await MoveCursorsAsync(connection, transaction, batch.Cursors, cancellationToken)
            && await WriteAssessmentsAsync(connection, transaction, batch.Assessments, cancellationToken)
            && await WriteBootStatesAsync(connection, transaction, batch.BootStates, cancellationToken)
            && await CountAssessmentVersionsAsync(connection, transaction, batch.Assessments, cancellationToken);
        foreach (AlertWrite alert in batch.Alerts)
        {
            if (!current)
                break;
            current = await WriteAlertAsync(connection, transaction, database.Dialect, alert, cancellationToken);
        }

        if (!current)
        {
            await transaction.RollbackAsync(cancellationToken);
            return false;
        }

        foreach (Guid vmId in batch.RemovedVms)
        {
            await using DbCommand remove = SqlCommands.Create(connection, transaction,
                "DELETE FROM security_assessments WHERE vm_id = @v; DELETE FROM posture_vm_state WHERE vm_id = @v;").With("@v", vmId.ToString("D"));
            await remove.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (NewSecurityEvent e in batch.Events)
            await SqlSecurityStore.AppendEventAsync(connection, transaction, e, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    // The VMs the batch writes for other than as released claims (whose marks the release sets).
    private static HashSet<Guid> WrittenOtherwise(PostureBatch batch)
    {
        var vms = new HashSet<Guid>(batch.Assessments.Select(a => a.Next.VmId));
        vms.UnionWith(batch.Alerts.Select(a => a.Next.VmId));
        vms.UnionWith(batch.BootStates.Select(b => b.Next.VmId));
        vms.UnionWith(batch.RemovedVms);
        vms.ExceptWith(batch.Releases.Select(r => r.VmId));
        return vms;
    }

    /// <summary>
    /// Stores an alert over <see cref="AlertWrite.Previous"/>: a new one only when neither its name nor (open) its
    /// de-duplication key is taken; an update only while the stored alert has the previous one's status, count and last
    /// result (so a status action and a new occurrence never overwrite each other), and (a NOT EXISTS guard, the same on both engines) when
    /// reopening it leaves one open alert per key. False when that no longer holds.
    /// </summary>
    internal static async Task<bool> WriteAlertAsync(DbConnection connection, DbTransaction transaction, SqlDialect dialect, AlertWrite write,
        CancellationToken cancellationToken)
    {
        SecurityAlert alert = write.Next;
        string json = JsonSerializer.Serialize(alert, PostureJson.Default.SecurityAlert);
        DbCommand command = write.Previous is not SecurityAlert previous
            ? SqlCommands.Create(connection, transaction,
                    "INSERT INTO security_alerts (name, subscription_id, group_key, vm_id, dedup_key, status, alert_json, alert_count, end_time, last_result_id, " +
                    "repeats_with) VALUES (@n, @s, @g, @v, @d, @st, @j, @count, @end, @result, @tag) ON CONFLICT DO NOTHING")
                .With("@s", SqlResourceGroupStore.Subscription(alert.SubscriptionId)).With("@g", ResourceIds.Key(alert.ResourceGroup))
                .With("@v", alert.VmId.ToString("D")).With("@d", alert.DedupKey)
            : SqlCommands.Create(connection, transaction,
                    "UPDATE security_alerts SET status = @st, alert_json = @j, alert_count = @count, end_time = @end, last_result_id = @result, repeats_with = @tag " +
                    $"WHERE name = @n AND status = @previousStatus AND {AlertRows.Count("security_alerts")} = @previousCount " +
                    $"AND {AlertRows.LastResult(dialect, "security_alerts")} = @previousResult " +
                    "AND (@st NOT IN ('Active', 'InProgress') OR NOT EXISTS (SELECT 1 FROM security_alerts other WHERE other.dedup_key = security_alerts.dedup_key " +
                    "AND other.status IN ('Active', 'InProgress') AND other.name <> security_alerts.name))")
                .With("@previousStatus", previous.Status.ToString()).With("@previousCount", previous.Count).With("@previousResult", previous.LastResultId);
        await using (command)
        {
            command.With("@n", alert.Name).With("@st", alert.Status.ToString()).With("@j", json).With("@count", alert.Count)
                .With("@end", StoreDatabase.ToUnixMilliseconds(alert.EndTimeUtc)).With("@result", alert.LastResultId).With("@tag", write.RepeatsWith);
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        }
    }

    // A cursor moves only from the value the pass started from: of two passes over the same results, one folds them.
    private static async Task<bool> MoveCursorsAsync(DbConnection connection, DbTransaction transaction, Dictionary<string, CursorMove> cursors,
        CancellationToken cancellationToken)
    {
        foreach ((string name, CursorMove move) in cursors)
        {
            await using DbCommand cursor = SqlCommands.Create(connection, transaction,
                    "INSERT INTO posture_cursors (name, value) VALUES (@n, @v) ON CONFLICT (name) DO UPDATE SET value = excluded.value WHERE value = @expected")
                .With("@n", name).With("@v", move.Value).With("@expected", move.Expected);
            if (await cursor.ExecuteNonQueryAsync(cancellationToken) != 1)
                return false;
        }

        return true;
    }

    private static async Task<bool> WriteAssessmentsAsync(DbConnection connection, DbTransaction transaction, List<AssessmentWrite> writes,
        CancellationToken cancellationToken)
    {
        if (writes.Count == 0)
            return true;
        await using DbCommand insert = SqlCommands.Create(connection, transaction,
            $"INSERT INTO security_assessments ({AssessmentColumns}) VALUES ({string.Join(", ", AssessmentParameters)}) ON CONFLICT DO NOTHING");
        await using DbCommand update = SqlCommands.Create(connection, transaction,
            "UPDATE security_assessments SET subscription_id = @s, group_key = @g, resource_id = @r, status = @status, cause = @cause, description = @d, " +
            "status_changed_at = @changed WHERE vm_id = @v AND assessment_key = @k AND status = @previousStatus AND cause IS NOT DISTINCT FROM @previousCause " +
            "AND description = @previousDescription AND status_changed_at = @previousChanged");
        await using DbCommand history = SqlCommands.Create(connection, transaction,
            "INSERT INTO security_assessment_history (vm_id, assessment_key, status, cause, description, at) VALUES (@v, @k, @status, @cause, @d, @changed)");
        DbParameter[] inserted = Parameters(insert, AssessmentParameters);
        DbParameter[] updated = Parameters(update, [.. AssessmentParameters, "@previousStatus", "@previousCause", "@previousDescription", "@previousChanged"]);
        DbParameter[] recorded = Parameters(history, ["@v", "@k", "@status", "@cause", "@d", "@changed"]);
        foreach (AssessmentWrite write in writes)
        {
            StoredAssessment a = write.Next;
            DbCommand command = write.Previous is null ? insert : update;
            DbParameter[] p = write.Previous is null ? inserted : updated;
            p[0].Value = a.VmId.ToString("D");
            p[1].Value = a.Key;
            p[2].Value = SqlResourceGroupStore.Subscription(a.SubscriptionId);
            p[3].Value = ResourceIds.Key(a.ResourceGroup);
            p[4].Value = a.ResourceId;
            p[5].Value = a.Status.ToString();
            p[6].Value = (object?)a.Cause ?? DBNull.Value;
            p[7].Value = a.Description;
            p[8].Value = StoreDatabase.ToUnixMilliseconds(a.FirstEvaluatedAt);
            p[9].Value = StoreDatabase.ToUnixMilliseconds(a.StatusChangedAt);
            if (write.Previous is StoredAssessment previous)
            {
                p[10].Value = previous.Status.ToString();
                p[11].Value = (object?)previous.Cause ?? DBNull.Value;
                p[12].Value = previous.Description;
                p[13].Value = StoreDatabase.ToUnixMilliseconds(previous.StatusChangedAt);
            }

            if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
                return false;
            if (!write.StatusChanged)
                continue;
            recorded[0].Value = p[0].Value;
            recorded[1].Value = a.Key;
            recorded[2].Value = p[5].Value;
            recorded[3].Value = p[6].Value;
            recorded[4].Value = a.Description;
            recorded[5].Value = p[9].Value;
            await history.ExecuteNonQueryAsync(cancellationToken);
        }

        return true;
    }

    // After the boot states (a VM's first batch inserts its row): a VM whose assessments this batch writes gets a new version,
    // so every engine holding them (PostureEngine's cache) reads them again.
    private static async Task<bool> CountAssessmentVersionsAsync(DbConnection connection, DbTransaction transaction, List<AssessmentWrite> writes,
        CancellationToken cancellationToken)
    {
        if (writes.Count == 0)
            return true;
        await using DbCommand command = SqlCommands.Create(connection, transaction,
            "UPDATE posture_vm_state SET assessments_version = assessments_version + 1 WHERE vm_id = @v").With("@v", "");
        foreach (Guid vmId in writes.Select(w => w.Next.VmId).Distinct())
        {
            command.Parameters["@v"].Value = vmId.ToString("D");
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return true;
    }

    private static async Task<bool> WriteBootStatesAsync(DbConnection connection, DbTransaction transaction, List<BootStateWrite> writes,
        CancellationToken cancellationToken)
    {
        foreach ((VmBootState? previous, VmBootState next) in writes)
        {
            await using DbCommand command = previous is null
                ? SqlCommands.Create(connection, transaction,
                    "INSERT INTO posture_vm_state (vm_id, running, restart_generation, running_since) VALUES (@v, @r, @g, @since) ON CONFLICT DO NOTHING")
                : SqlCommands.Create(connection, transaction,
                        "UPDATE posture_vm_state SET running = @r, restart_generation = @g, running_since = @since WHERE vm_id = @v " +
                        "AND running = @previousRunning AND restart_generation = @previousGeneration AND running_since IS NOT DISTINCT FROM @previousSince")
                    .With("@previousRunning", previous.Running ? 1 : 0).With("@previousGeneration", previous.RestartGeneration)
                    .With("@previousSince", previous.RunningSince is DateTimeOffset before ? StoreDatabase.ToUnixMilliseconds(before) : null);
            command.With("@v", next.VmId.ToString("D")).With("@r", next.Running ? 1 : 0).With("@g", next.RestartGeneration)
                .With("@since", next.RunningSince is DateTimeOffset since ? StoreDatabase.ToUnixMilliseconds(since) : null);
            if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
                return false;
        }

        return true;
    }

    private static DbParameter[] Parameters(DbCommand command, IEnumerable<string> names) =>
        names.Select(n => command.With(n, DBNull.Value).Parameters[n]).ToArray();

    private const string ResultColumns = "id, vm_id, at, verdict, reason, component, message, claims_json, token_id";

    /// <summary>The columns <see cref="ReadResultsAsync"/> reads, in its order.</summary>
    internal static readonly string[] ResultColumnNames = ResultColumns.Split(", ");

    private static void Bind(DbCommand command, IReadOnlyCollection<Guid>? vmIds)
    {
        if (vmIds is null)
            return;
        int i = 0;
        foreach (Guid id in vmIds)
            command.With("@v" + i++, id.ToString("D"));
    }

    internal static Task<IReadOnlyList<AttestationRecord>> ReadResultsAsync(DbCommand command, CancellationToken cancellationToken) =>
        SqlCommands.ReadAllAsync(command, ReadResult, cancellationToken);

    private static AttestationRecord ReadResult(DbDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        VmId = Guid.Parse(reader.GetString(1)),
        At = StoreDatabase.FromUnixMilliseconds(reader.GetInt64(2)),
        Verdict = reader.GetString(3) == "pass" ? AttestationVerdict.Pass : AttestationVerdict.Fail,
        Reason = SqlCommands.NullableString(reader, 4),
        Component = SqlCommands.NullableString(reader, 5),
        Message = SqlCommands.NullableString(reader, 6),
        ClaimsJson = SqlCommands.NullableString(reader, 7),
        TokenId = SqlCommands.NullableString(reader, 8),
    };

    private static StoredAssessment ReadAssessment(DbDataReader reader) => new()
    {
        VmId = Guid.Parse(reader.GetString(0)),
        Key = reader.GetString(1),
        SubscriptionId = reader.GetString(2),
        ResourceGroup = reader.GetString(3),
        ResourceId = reader.GetString(4),
        Status = SqlCommands.ParseEnum<AssessmentStatusCode>(reader.GetString(5)),
        Cause = SqlCommands.NullableString(reader, 6),
        Description = reader.GetString(7),
        FirstEvaluatedAt = StoreDatabase.FromUnixMilliseconds(reader.GetInt64(8)),
        StatusChangedAt = StoreDatabase.FromUnixMilliseconds(reader.GetInt64(9)),
    };
}
