using System.Text.Json;
using Microsoft.Data.Sqlite;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sqlite;
using TrustedLaunch.Server.Stores.Sqlite.ControlPlane;

namespace TrustedLaunch.Server.Posture.Stores;

/// <summary>
/// Posture's evaluation state on SQLite: assessments and their history, alerts, the cursors over attestation results
/// and VM changes, the VMs' observed boots and remediations. <see cref="ApplyAsync"/> writes one evaluation pass in one
/// transaction. Reads the attestation results and the VMs' change sequence of the same database.
/// </summary>
public sealed class SqlitePostureStore(SqliteDatabase database)
{
    public const string ResultsCursor = "attestation-results";
    public const string VmChangesCursor = "vm-changes";
    public const string FanOutCursor = "webhook-fan-out";

    private static readonly string[] AssessmentParameters = ["$v", "$k", "$s", "$g", "$r", "$status", "$cause", "$d", "$first", "$changed"];

    private const string AssessmentColumns =
        "vm_id, assessment_key, subscription_id, group_key, resource_id, status, cause, description, first_evaluated_at, status_changed_at";

    public async Task<long> GetCursorAsync(string name, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = SqliteCommands.Create(connection, null, "SELECT value FROM posture_cursors WHERE name = $n").With("$n", name);
        return await command.ExecuteScalarAsync(cancellationToken) is long value ? value : 0;
    }

    /// <summary>Attestation results stored after <paramref name="afterId"/>, oldest first.</summary>
    public async Task<IReadOnlyList<AttestationRecord>> ResultsAfterAsync(long afterId, int limit, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = SqliteCommands.Create(connection, null,
            $"SELECT {ResultColumns} FROM attestation_results WHERE id > $after ORDER BY id LIMIT $limit").With("$after", afterId).With("$limit", limit);
        return await ReadResultsAsync(command, cancellationToken);
    }

    /// <summary>
    /// For each VM (all, or those given): its newest result and when its agent last answered with evidence. One query
    /// each way, whatever the number of VMs.
    /// </summary>
    public async Task<Dictionary<Guid, (AttestationRecord? Latest, DateTimeOffset? LastAnswer)>> LatestResultsAsync(IReadOnlyCollection<Guid>? vmIds,
        CancellationToken cancellationToken)
    {
        var latest = new Dictionary<Guid, (AttestationRecord? Latest, DateTimeOffset? LastAnswer)>();
        await using SqliteConnection connection = database.OpenConnection();
        string filter = vmIds is null ? "" : $" WHERE vm_id IN ({string.Join(",", vmIds.Select((_, i) => "$v" + i))})";
        await using (SqliteCommand command = SqliteCommands.Create(connection, null,
            $"SELECT {ResultColumns} FROM attestation_results WHERE id IN (SELECT MAX(id) FROM attestation_results{filter} GROUP BY vm_id)"))
        {
            Bind(command, vmIds);
            foreach (AttestationRecord record in await ReadResultsAsync(command, cancellationToken))
                latest[record.VmId] = (record, null);
        }

        string answerFilter = vmIds is null ? " WHERE " : filter + " AND ";
        await using (SqliteCommand command = SqliteCommands.Create(connection, null,
            $"SELECT vm_id, MAX(at) FROM attestation_results{answerFilter}(verdict = 'pass' OR reason NOT IN ('AgentUnresponsive', 'NonceRejected')) GROUP BY vm_id"))
        {
            Bind(command, vmIds);
            await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var vmId = Guid.Parse(reader.GetString(0));
                DateTimeOffset at = SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(1));
                latest[vmId] = (latest.TryGetValue(vmId, out var entry) ? entry.Latest : null, at);
            }
        }

        return latest;
    }

    /// <summary>The ids of VMs written after change sequence <paramref name="after"/>, and the newest sequence seen.</summary>
    public async Task<(IReadOnlyList<Guid> VmIds, long Newest)> ChangedVmsAsync(long after, CancellationToken cancellationToken)
    {
        var ids = new List<Guid>();
        long newest = after;
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = SqliteCommands.Create(connection, null,
            "SELECT vm_id, change_seq FROM virtual_machines WHERE change_seq > $after ORDER BY change_seq LIMIT 5000").With("$after", after);
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(Guid.Parse(reader.GetString(0)));
            newest = Math.Max(newest, reader.GetInt64(1));
        }

        return (ids, newest);
    }

    public async Task<Dictionary<Guid, VmBootState>> BootStatesAsync(CancellationToken cancellationToken)
    {
        var states = new Dictionary<Guid, VmBootState>();
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = SqliteCommands.Create(connection, null,
            "SELECT vm_id, running, restart_generation, running_since FROM posture_vm_state");
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var vmId = Guid.Parse(reader.GetString(0));
            states[vmId] = new VmBootState(vmId, reader.GetInt64(1) != 0, reader.GetInt64(2),
                SqliteCommands.NullableInt64(reader, 3) is long since ? SqliteDatabase.FromUnixMilliseconds(since) : null);
        }

        return states;
    }

    /// <summary>Stored assessments: of one subscription (and group, and VM) or, with <paramref name="subscriptionId"/> null, all.</summary>
    public async Task<IReadOnlyList<StoredAssessment>> ListAssessmentsAsync(string? subscriptionId, string? resourceGroup, Guid? vmId,
        CancellationToken cancellationToken)
    {
        var where = new List<string>();
        if (subscriptionId is not null)
            where.Add("subscription_id = $s");
        if (resourceGroup is not null)
            where.Add("group_key = $g");
        if (vmId is not null)
            where.Add("vm_id = $v");
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = SqliteCommands.Create(connection, null,
                $"SELECT {AssessmentColumns} FROM security_assessments{(where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where))} ORDER BY resource_id, assessment_key")
            .With("$s", subscriptionId is null ? null : SqliteResourceGroupStore.Subscription(subscriptionId))
            .With("$g", resourceGroup is null ? null : ResourceIds.Key(resourceGroup)).With("$v", vmId?.ToString("D"));
        var list = new List<StoredAssessment>();
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            list.Add(ReadAssessment(reader));
        return list;
    }

    public async Task<IReadOnlyList<AssessmentHistoryEntry>> HistoryAsync(Guid vmId, string key, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = SqliteCommands.Create(connection, null,
                "SELECT status, cause, description, at FROM security_assessment_history WHERE vm_id = $v AND assessment_key = $k ORDER BY id")
            .With("$v", vmId.ToString("D")).With("$k", key);
        var list = new List<AssessmentHistoryEntry>();
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new AssessmentHistoryEntry(SqliteCommands.ParseEnum<AssessmentStatusCode>(reader.GetString(0)), SqliteCommands.NullableString(reader, 1),
                reader.GetString(2), SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(3))));
        }

        return list;
    }

    public async Task<SecurityAlert?> GetAlertAsync(string subscriptionId, string name, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = SqliteCommands.Create(connection, null,
            "SELECT alert_json FROM security_alerts WHERE name = $n AND subscription_id = $s").With("$n", name)
            .With("$s", SqliteResourceGroupStore.Subscription(subscriptionId));
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? JsonSerializer.Deserialize(json, PostureJson.Default.SecurityAlert) : null;
    }

    /// <summary>Alerts of a subscription (or one of its groups), newest first.</summary>
    public async Task<IReadOnlyList<SecurityAlert>> ListAlertsAsync(string subscriptionId, string? resourceGroup, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = SqliteCommands.Create(connection, null,
                $"SELECT alert_json FROM security_alerts WHERE subscription_id = $s{(resourceGroup is null ? "" : " AND group_key = $g")} ORDER BY name")
            .With("$s", SqliteResourceGroupStore.Subscription(subscriptionId)).With("$g", resourceGroup is null ? null : ResourceIds.Key(resourceGroup));
        return await ReadAlertsAsync(command, cancellationToken);
    }

    /// <summary>The open (Active or InProgress) alerts of one VM.</summary>
    public async Task<IReadOnlyList<SecurityAlert>> OpenAlertsAsync(Guid vmId, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = SqliteCommands.Create(connection, null,
            "SELECT alert_json FROM security_alerts WHERE vm_id = $v AND status IN ('Active', 'InProgress')").With("$v", vmId.ToString("D"));
        return await ReadAlertsAsync(command, cancellationToken);
    }

    public async Task<RemediationRecord?> GetRemediationAsync(Guid vmId, string key, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = SqliteCommands.Create(connection, null,
            "SELECT remediation_json FROM security_remediations WHERE vm_id = $v AND assessment_key = $k").With("$v", vmId.ToString("D")).With("$k", key);
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? JsonSerializer.Deserialize(json, PostureJson.Default.RemediationRecord) : null;
    }

    /// <summary>Stores a remediation; with <paramref name="onlyIfNotRunning"/>, fails (false) when one is in progress for the VM.</summary>
    public async Task<bool> SaveRemediationAsync(RemediationRecord remediation, bool onlyIfNotRunning, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remediation);
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        string condition = onlyIfNotRunning ? " WHERE json_extract(security_remediations.remediation_json, '$.status') <> 'InProgress'" : "";
        await using SqliteCommand command = SqliteCommands.Create(writer.Connection, null,
                "INSERT INTO security_remediations (vm_id, assessment_key, remediation_json) VALUES ($v, $k, $j) " +
                $"ON CONFLICT (vm_id, assessment_key) DO UPDATE SET remediation_json = excluded.remediation_json{condition}")
            .With("$v", remediation.VmId.ToString("D")).With("$k", remediation.Key)
            .With("$j", JsonSerializer.Serialize(remediation, PostureJson.Default.RemediationRecord));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<RemediationRecord>> RunningRemediationsAsync(CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = SqliteCommands.Create(connection, null,
            "SELECT remediation_json FROM security_remediations WHERE json_extract(remediation_json, '$.status') = 'InProgress'");
        var list = new List<RemediationRecord>();
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            list.Add(JsonSerializer.Deserialize(reader.GetString(0), PostureJson.Default.RemediationRecord)!);
        return list;
    }

    /// <summary>Writes one evaluation pass (see <see cref="PostureBatch"/>) in one transaction.</summary>
    public async Task ApplyAsync(PostureBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.IsEmpty)
            return;
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        SqliteConnection connection = writer.Connection;
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        if (batch.Assessments.Count > 0)
        {
            await using SqliteCommand upsert = SqliteCommands.Create(connection, transaction,
                $"INSERT INTO security_assessments ({AssessmentColumns}) VALUES ($v, $k, $s, $g, $r, $status, $cause, $d, $first, $changed) " +
                "ON CONFLICT (vm_id, assessment_key) DO UPDATE SET subscription_id = excluded.subscription_id, group_key = excluded.group_key, " +
                "resource_id = excluded.resource_id, status = excluded.status, cause = excluded.cause, description = excluded.description, " +
                "status_changed_at = excluded.status_changed_at");
            SqliteParameter[] p = AssessmentParameters.Select(n => upsert.Parameters.AddWithValue(n, DBNull.Value)).ToArray();
            foreach (StoredAssessment a in batch.Assessments)
            {
                p[0].Value = a.VmId.ToString("D");
                p[1].Value = a.Key;
                p[2].Value = SqliteResourceGroupStore.Subscription(a.SubscriptionId);
                p[3].Value = ResourceIds.Key(a.ResourceGroup);
                p[4].Value = a.ResourceId;
                p[5].Value = a.Status.ToString();
                p[6].Value = (object?)a.Cause ?? DBNull.Value;
                p[7].Value = a.Description;
                p[8].Value = SqliteDatabase.ToUnixMilliseconds(a.FirstEvaluatedAt);
                p[9].Value = SqliteDatabase.ToUnixMilliseconds(a.StatusChangedAt);
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        foreach ((Guid vmId, string key, AssessmentHistoryEntry entry) in batch.History)
        {
            await using SqliteCommand history = SqliteCommands.Create(connection, transaction,
                    "INSERT INTO security_assessment_history (vm_id, assessment_key, status, cause, description, at) VALUES ($v, $k, $s, $c, $d, $at)")
                .With("$v", vmId.ToString("D")).With("$k", key).With("$s", entry.Status.ToString()).With("$c", entry.Cause).With("$d", entry.Description)
                .With("$at", SqliteDatabase.ToUnixMilliseconds(entry.At));
            await history.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (Guid vmId in batch.RemovedVms)
        {
            await using SqliteCommand remove = SqliteCommands.Create(connection, transaction,
                "DELETE FROM security_assessments WHERE vm_id = $v; DELETE FROM posture_vm_state WHERE vm_id = $v;").With("$v", vmId.ToString("D"));
            await remove.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (SecurityAlert alert in batch.Alerts)
            await SaveAlertAsync(connection, transaction, alert, cancellationToken);
        foreach (NewSecurityEvent e in batch.Events)
            await SqliteSecurityStore.AppendEventAsync(connection, transaction, e, cancellationToken);
        foreach (VmBootState state in batch.BootStates)
        {
            await using SqliteCommand boot = SqliteCommands.Create(connection, transaction,
                    "INSERT INTO posture_vm_state (vm_id, running, restart_generation, running_since) VALUES ($v, $r, $g, $since) " +
                    "ON CONFLICT (vm_id) DO UPDATE SET running = excluded.running, restart_generation = excluded.restart_generation, running_since = excluded.running_since")
                .With("$v", state.VmId.ToString("D")).With("$r", state.Running ? 1 : 0).With("$g", state.RestartGeneration)
                .With("$since", state.RunningSince is DateTimeOffset since ? SqliteDatabase.ToUnixMilliseconds(since) : null);
            await boot.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach ((string name, long value) in batch.Cursors)
        {
            await using SqliteCommand cursor = SqliteCommands.Create(connection, transaction,
                "INSERT INTO posture_cursors (name, value) VALUES ($n, $v) ON CONFLICT (name) DO UPDATE SET value = MAX(value, excluded.value)")
                .With("$n", name).With("$v", value);
            await cursor.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    internal static async Task SaveAlertAsync(SqliteConnection connection, SqliteTransaction transaction, SecurityAlert alert, CancellationToken cancellationToken)
    {
        await using SqliteCommand command = SqliteCommands.Create(connection, transaction,
                "INSERT INTO security_alerts (name, subscription_id, group_key, vm_id, dedup_key, status, alert_json) VALUES ($n, $s, $g, $v, $d, $st, $j) " +
                "ON CONFLICT (name) DO UPDATE SET status = excluded.status, alert_json = excluded.alert_json")
            .With("$n", alert.Name).With("$s", SqliteResourceGroupStore.Subscription(alert.SubscriptionId)).With("$g", ResourceIds.Key(alert.ResourceGroup))
            .With("$v", alert.VmId.ToString("D")).With("$d", alert.DedupKey).With("$st", alert.Status.ToString())
            .With("$j", JsonSerializer.Serialize(alert, PostureJson.Default.SecurityAlert));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private const string ResultColumns = "id, vm_id, at, verdict, reason, component, message, claims_json, token_id";

    private static void Bind(SqliteCommand command, IReadOnlyCollection<Guid>? vmIds)
    {
        if (vmIds is null)
            return;
        int i = 0;
        foreach (Guid id in vmIds)
            command.With("$v" + i++, id.ToString("D"));
    }

    private static async Task<IReadOnlyList<AttestationRecord>> ReadResultsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var list = new List<AttestationRecord>();
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new AttestationRecord
            {
                Id = reader.GetInt64(0),
                VmId = Guid.Parse(reader.GetString(1)),
                At = SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(2)),
                Verdict = reader.GetString(3) == "pass" ? AttestationVerdict.Pass : AttestationVerdict.Fail,
                Reason = SqliteCommands.NullableString(reader, 4),
                Component = SqliteCommands.NullableString(reader, 5),
                Message = SqliteCommands.NullableString(reader, 6),
                ClaimsJson = SqliteCommands.NullableString(reader, 7),
                TokenId = SqliteCommands.NullableString(reader, 8),
            });
        }

        return list;
    }

    private static async Task<IReadOnlyList<SecurityAlert>> ReadAlertsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var list = new List<SecurityAlert>();
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            list.Add(JsonSerializer.Deserialize(reader.GetString(0), PostureJson.Default.SecurityAlert)!);
        return list;
    }

    private static StoredAssessment ReadAssessment(SqliteDataReader reader) => new()
    {
        VmId = Guid.Parse(reader.GetString(0)),
        Key = reader.GetString(1),
        SubscriptionId = reader.GetString(2),
        ResourceGroup = reader.GetString(3),
        ResourceId = reader.GetString(4),
        Status = SqliteCommands.ParseEnum<AssessmentStatusCode>(reader.GetString(5)),
        Cause = SqliteCommands.NullableString(reader, 6),
        Description = reader.GetString(7),
        FirstEvaluatedAt = SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(8)),
        StatusChangedAt = SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(9)),
    };
}
