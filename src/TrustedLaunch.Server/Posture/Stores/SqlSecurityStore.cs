using System.Text.Json;
using System.Data.Common;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Posture.Suppression;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;

namespace TrustedLaunch.Server.Posture.Stores;

/// <summary>
/// Posture's settings and notifications on <see cref="StoreDatabase"/>: plans, suppression rules, webhook subscriptions, the event stream,
/// the webhook outbox (persisted, so deliveries survive a restart) and the delivery log.
/// </summary>
public sealed class SqlSecurityStore(StoreDatabase database)
{
    public async Task<Dictionary<string, PricingTier>> TiersAsync(CancellationToken cancellationToken)
    {
        var tiers = new Dictionary<string, PricingTier>(StringComparer.OrdinalIgnoreCase);
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, "SELECT subscription_id, tier FROM security_pricings");
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            tiers[reader.GetString(0)] = SqlCommands.ParseEnum<PricingTier>(reader.GetString(1));
        return tiers;
    }

    /// <summary>The subscription's tier (Free until set) and when it was set.</summary>
    public async Task<(PricingTier Tier, DateTimeOffset? ChangedAt)> GetTierAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, "SELECT tier, changed_at FROM security_pricings WHERE subscription_id = @s")
            .With("@s", SqlResourceGroupStore.Subscription(subscriptionId));
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (SqlCommands.ParseEnum<PricingTier>(reader.GetString(0)), StoreDatabase.FromUnixMilliseconds(reader.GetInt64(1)))
            : (PricingTier.Free, null);
    }

    /// <summary>
    /// The version of the plans and suppression rules, counted up in the transaction of every write of either: whoever
    /// holds them as read after this version was read holds them as stored while it stays the same.
    /// </summary>
    public async Task<long> SettingsVersionAsync(CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, "SELECT value FROM security_settings_version WHERE id = 1");
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task SetTierAsync(string subscriptionId, PricingTier tier, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbTransaction transaction = await database.BeginWriteTransactionAsync(writer.Connection, cancellationToken);
        await using DbCommand command = SqlCommands.Create(writer.Connection, transaction,
                "INSERT INTO security_pricings (subscription_id, tier, changed_at) VALUES (@s, @t, @at) " +
                "ON CONFLICT (subscription_id) DO UPDATE SET tier = excluded.tier, changed_at = CASE WHEN security_pricings.tier = excluded.tier THEN security_pricings.changed_at ELSE excluded.changed_at END")
            .With("@s", SqlResourceGroupStore.Subscription(subscriptionId)).With("@t", tier.ToString()).With("@at", StoreDatabase.ToUnixMilliseconds(at));
        await command.ExecuteNonQueryAsync(cancellationToken);
        await CountSettingsVersionAsync(writer.Connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task CountSettingsVersionAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using DbCommand command = SqlCommands.Create(connection, transaction, "UPDATE security_settings_version SET value = value + 1 WHERE id = 1");
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Suppression rules of a subscription, or of all when <paramref name="subscriptionId"/> is null.</summary>
    public Task<IReadOnlyList<SuppressionRule>> ListRulesAsync(string? subscriptionId, CancellationToken cancellationToken) =>
        ListJsonAsync("rule_json", "security_suppression_rules", subscriptionId, PostureJson.Default.SuppressionRule, cancellationToken);

    public async Task<SuppressionRule?> GetRuleAsync(string subscriptionId, string name, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
                "SELECT rule_json FROM security_suppression_rules WHERE subscription_id = @s AND name_key = @k")
            .With("@s", SqlResourceGroupStore.Subscription(subscriptionId)).With("@k", ResourceIds.Key(name));
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? JsonSerializer.Deserialize(json, PostureJson.Default.SuppressionRule) : null;
    }

    /// <summary>Adds or replaces a rule; true when it was created.</summary>
    public async Task<bool> SaveRuleAsync(SuppressionRule rule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rule);
        bool existed = await GetRuleAsync(rule.SubscriptionId, rule.Name, cancellationToken) is not null;
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbTransaction transaction = await database.BeginWriteTransactionAsync(writer.Connection, cancellationToken);
        await using DbCommand command = SqlCommands.Create(writer.Connection, transaction,
                "INSERT INTO security_suppression_rules (subscription_id, name_key, rule_json) VALUES (@s, @k, @j) " +
                "ON CONFLICT (subscription_id, name_key) DO UPDATE SET rule_json = excluded.rule_json")
            .With("@s", SqlResourceGroupStore.Subscription(rule.SubscriptionId)).With("@k", ResourceIds.Key(rule.Name))
            .With("@j", JsonSerializer.Serialize(rule, PostureJson.Default.SuppressionRule));
        await command.ExecuteNonQueryAsync(cancellationToken);
        await CountSettingsVersionAsync(writer.Connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return !existed;
    }

    public async Task<bool> DeleteRuleAsync(string subscriptionId, string name, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbTransaction transaction = await database.BeginWriteTransactionAsync(writer.Connection, cancellationToken);
        await using DbCommand command = SqlCommands.Create(writer.Connection, transaction,
                "DELETE FROM security_suppression_rules WHERE subscription_id = @s AND name_key = @k")
            .With("@s", SqlResourceGroupStore.Subscription(subscriptionId)).With("@k", ResourceIds.Key(name));
        bool deleted = await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        await CountSettingsVersionAsync(writer.Connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }

    public Task<IReadOnlyList<WebhookSubscription>> ListWebhooksAsync(string? subscriptionId, CancellationToken cancellationToken) =>
        ListJsonAsync("webhook_json", "security_webhooks", subscriptionId, PostureJson.Default.WebhookSubscription, cancellationToken);

    // One JSON column of a per-subscription table (of all subscriptions when subscriptionId is null), by name.
    private async Task<IReadOnlyList<T>> ListJsonAsync<T>(string column, string table, string? subscriptionId,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
                $"SELECT {column} FROM {table}{(subscriptionId is null ? "" : " WHERE subscription_id = @s")} ORDER BY name_key")
            .With("@s", subscriptionId is null ? null : SqlResourceGroupStore.Subscription(subscriptionId));
        var list = new List<T>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            list.Add(JsonSerializer.Deserialize(reader.GetString(0), type)!);
        return list;
    }

    /// <summary>The webhook and its HMAC secret.</summary>
    public async Task<(WebhookSubscription Webhook, string Secret)?> GetWebhookAsync(string subscriptionId, string name, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
                "SELECT webhook_json, secret FROM security_webhooks WHERE subscription_id = @s AND name_key = @k")
            .With("@s", SqlResourceGroupStore.Subscription(subscriptionId)).With("@k", ResourceIds.Key(name));
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (JsonSerializer.Deserialize(reader.GetString(0), PostureJson.Default.WebhookSubscription)!, reader.GetString(1))
            : null;
    }

    /// <summary>Adds or replaces a webhook subscription (a replaced one starts again: enabled, no failures); true when created.</summary>
    public async Task<bool> SaveWebhookAsync(WebhookSubscription webhook, string secret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        bool existed = await GetWebhookAsync(webhook.SubscriptionId, webhook.Name, cancellationToken) is not null;
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(writer.Connection, null,
                "INSERT INTO security_webhooks (subscription_id, name_key, webhook_json, secret) VALUES (@s, @k, @j, @secret) " +
                "ON CONFLICT (subscription_id, name_key) DO UPDATE SET webhook_json = excluded.webhook_json, secret = excluded.secret")
            .With("@s", SqlResourceGroupStore.Subscription(webhook.SubscriptionId)).With("@k", ResourceIds.Key(webhook.Name))
            .With("@j", JsonSerializer.Serialize(webhook, PostureJson.Default.WebhookSubscription)).With("@secret", secret);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return !existed;
    }

    /// <summary>Removes a webhook subscription and its pending deliveries (the delivery log stays).</summary>
    public Task<bool> DeleteWebhookAsync(string subscriptionId, string name, CancellationToken cancellationToken) =>
        DeleteAsync("DELETE FROM security_outbox WHERE subscription_id = @s AND webhook_key = @k AND state = 'Pending'; " +
            "DELETE FROM security_webhooks WHERE subscription_id = @s AND name_key = @k", subscriptionId, name, cancellationToken);

    /// <summary>Events of a subscription (all when null) after <paramref name="afterSeq"/>, oldest first.</summary>
    public async Task<IReadOnlyList<SecurityEventRecord>> EventsAfterAsync(string? subscriptionId, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
                $"SELECT {EventColumns} FROM security_events WHERE seq > @after{(subscriptionId is null ? "" : " AND subscription_id = @s")} ORDER BY seq LIMIT @limit")
            .With("@after", afterSeq).With("@limit", limit).With("@s", subscriptionId is null ? null : SqlResourceGroupStore.Subscription(subscriptionId));
        var list = new List<SecurityEventRecord>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            list.Add(ReadEvent(reader, 0));
        return list;
    }

    public async Task<long> LastEventSeqAsync(CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, "SELECT COALESCE(MAX(seq), 0) FROM security_events");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// An alert's new status and the event that reports it, in one transaction, if the stored alert is still
    /// <paramref name="previous"/> (its status, count and last result); false, and nothing written, when it changed.
    /// </summary>
    public async Task<bool> SaveAlertAsync(SecurityAlert previous, SecurityAlert alert, NewSecurityEvent? change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(alert);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using var transaction = await database.BeginWriteTransactionAsync(writer.Connection, cancellationToken);
        await SqlPostureWork.ClearRepeatsAsync(writer.Connection, transaction, [alert.VmId], cancellationToken);
        if (!await SqlPostureStore.WriteAlertAsync(writer.Connection, transaction, database.Dialect, new AlertWrite(previous, alert), cancellationToken))
            return false;
        if (change is not null)
            await AppendEventAsync(writer.Connection, transaction, change, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Fans the events after the fan-out cursor out to the webhooks whose filter they pass (one outbox row each), and moves
    /// the cursor, in one transaction; returns how many rows it queued.
    /// </summary>
    public async Task<int> FanOutAsync(Func<WebhookSubscription, SecurityEventRecord, bool> matches, DateTimeOffset now, int limit,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(matches);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using var transaction = await database.BeginWriteTransactionAsync(connection, cancellationToken);
        long cursor;
        await using (DbCommand read = SqlCommands.Create(connection, transaction, "SELECT value FROM posture_cursors WHERE name = @n")
            .With("@n", SqlPostureStore.FanOutCursor))
            cursor = await read.ExecuteScalarAsync(cancellationToken) is long c ? c : 0;
        var events = new List<SecurityEventRecord>();
        await using (DbCommand read = SqlCommands.Create(connection, transaction,
            $"SELECT {EventColumns} FROM security_events WHERE seq > @after ORDER BY seq LIMIT @limit").With("@after", cursor).With("@limit", limit))
        await using (DbDataReader reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                events.Add(ReadEvent(reader, 0));
        }

        if (events.Count == 0)
            return 0;
        var webhooks = new List<WebhookSubscription>();
        await using (DbCommand read = SqlCommands.Create(connection, transaction, "SELECT webhook_json FROM security_webhooks"))
        await using (DbDataReader reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                webhooks.Add(JsonSerializer.Deserialize(reader.GetString(0), PostureJson.Default.WebhookSubscription)!);
        }

        int queued = 0;
        foreach (SecurityEventRecord e in events)
        {
            foreach (WebhookSubscription webhook in webhooks.Where(w => w.Enabled && string.Equals(w.SubscriptionId, e.SubscriptionId, StringComparison.OrdinalIgnoreCase)
                && matches(w, e)))
            {
                await using DbCommand insert = SqlCommands.Create(connection, transaction,
                        "INSERT INTO security_outbox (subscription_id, webhook_key, event_seq, state, attempts, next_attempt_at) VALUES (@s, @k, @e, 'Pending', 0, @at) " +
                        "ON CONFLICT DO NOTHING")
                    .With("@s", e.SubscriptionId).With("@k", ResourceIds.Key(webhook.Name)).With("@e", e.Seq).With("@at", StoreDatabase.ToUnixMilliseconds(now));
                queued += await insert.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await using (DbCommand move = SqlCommands.Create(connection, transaction,
            "INSERT INTO posture_cursors (name, value) VALUES (@n, @v) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
            .With("@n", SqlPostureStore.FanOutCursor).With("@v", events[^1].Seq))
            await move.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return queued;
    }

    /// <summary>Pending deliveries due by <paramref name="now"/>, oldest event first.</summary>
    public async Task<IReadOnlyList<OutboxItem>> DueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
                $"SELECT o.id, o.subscription_id, w.webhook_json, o.attempts, {string.Join(", ", EventColumns.Split(", ").Select(c => "e." + c))} " +
                "FROM security_outbox o JOIN security_events e ON e.seq = o.event_seq " +
                "JOIN security_webhooks w ON w.subscription_id = o.subscription_id AND w.name_key = o.webhook_key " +
                "WHERE o.state = 'Pending' AND o.next_attempt_at <= @now ORDER BY o.event_seq, o.id LIMIT @limit")
            .With("@now", StoreDatabase.ToUnixMilliseconds(now)).With("@limit", limit);
        var list = new List<OutboxItem>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            WebhookSubscription webhook = JsonSerializer.Deserialize(reader.GetString(2), PostureJson.Default.WebhookSubscription)!;
            if (webhook.Enabled)
                list.Add(new OutboxItem(reader.GetInt64(0), reader.GetString(1), webhook.Name, ReadEvent(reader, 4), reader.GetInt32(3)));
        }

        return list;
    }

    /// <summary>
    /// Records one delivery (every attempt in the log) and its outcome: Delivered, or Failed after its retries; the
    /// webhook's consecutive failures move, and reaching <paramref name="disableAfter"/> disables it.
    /// </summary>
    public async Task<WebhookSubscription?> RecordDeliveryAsync(OutboxItem item, IReadOnlyList<DeliveryRecord> attempts, bool delivered, int disableAfter,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(attempts);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        DbConnection connection = writer.Connection;
        await using var transaction = await database.BeginWriteTransactionAsync(connection, cancellationToken);
        foreach (DeliveryRecord attempt in attempts)
        {
            await using DbCommand log = SqlCommands.Create(connection, transaction,
                    "INSERT INTO security_deliveries (subscription_id, webhook_key, event_id, attempt, at, status_code, outcome, error) VALUES (@s, @k, @e, @a, @at, @code, @o, @err)")
                .With("@s", item.SubscriptionId).With("@k", ResourceIds.Key(item.WebhookName)).With("@e", attempt.EventId).With("@a", attempt.Attempt)
                .With("@at", StoreDatabase.ToUnixMilliseconds(attempt.At)).With("@code", attempt.StatusCode).With("@o", attempt.Outcome).With("@err", attempt.Error);
            await log.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (DbCommand outbox = SqlCommands.Create(connection, transaction,
                "UPDATE security_outbox SET state = @state, attempts = attempts + @n WHERE id = @id")
            .With("@state", delivered ? "Delivered" : "Failed").With("@n", attempts.Count).With("@id", item.Id))
            await outbox.ExecuteNonQueryAsync(cancellationToken);

        WebhookSubscription? updated = null;
        string? json;
        await using (DbCommand read = SqlCommands.Create(connection, transaction,
                "SELECT webhook_json FROM security_webhooks WHERE subscription_id = @s AND name_key = @k")
            .With("@s", item.SubscriptionId).With("@k", ResourceIds.Key(item.WebhookName)))
            json = await read.ExecuteScalarAsync(cancellationToken) as string;
        if (json is not null)
        {
            WebhookSubscription webhook = JsonSerializer.Deserialize(json, PostureJson.Default.WebhookSubscription)!;
            int failures = delivered ? 0 : webhook.ConsecutiveFailures + 1;
            bool disable = !delivered && failures >= disableAfter;
            updated = webhook with
            {
                ConsecutiveFailures = failures,
                LastDeliveryAt = delivered ? now : webhook.LastDeliveryAt,
                Enabled = webhook.Enabled && !disable,
                DisabledReason = disable
                    ? $"Disabled after {failures} failed deliveries in a row (the last: {attempts[^1].Error ?? attempts[^1].StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture)})."
                    : webhook.DisabledReason,
            };
            await using DbCommand write = SqlCommands.Create(connection, transaction,
                    "UPDATE security_webhooks SET webhook_json = @j WHERE subscription_id = @s AND name_key = @k")
                .With("@j", JsonSerializer.Serialize(updated, PostureJson.Default.WebhookSubscription)).With("@s", item.SubscriptionId)
                .With("@k", ResourceIds.Key(item.WebhookName));
            await write.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return updated;
    }

    public async Task<IReadOnlyList<DeliveryRecord>> DeliveriesAsync(string subscriptionId, string webhookName, int limit, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
                "SELECT id, event_id, attempt, at, status_code, outcome, error FROM security_deliveries WHERE subscription_id = @s AND webhook_key = @k ORDER BY id DESC LIMIT @limit")
            .With("@s", SqlResourceGroupStore.Subscription(subscriptionId)).With("@k", ResourceIds.Key(webhookName)).With("@limit", limit);
        var list = new List<DeliveryRecord>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new DeliveryRecord(reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), StoreDatabase.FromUnixMilliseconds(reader.GetInt64(3)),
                reader.IsDBNull(4) ? null : reader.GetInt32(4), reader.GetString(5), SqlCommands.NullableString(reader, 6)));
        }

        return list;
    }

    internal static async Task AppendEventAsync(DbConnection connection, DbTransaction transaction, NewSecurityEvent e, CancellationToken cancellationToken)
    {
        await using DbCommand command = SqlCommands.Create(connection, transaction,
                "INSERT INTO security_events (subscription_id, event_id, type, alert_type, severity, event_json, at) VALUES (@s, @id, @t, @a, @sev, @j, @at) " +
                "ON CONFLICT DO NOTHING")
            .With("@s", SqlResourceGroupStore.Subscription(e.SubscriptionId)).With("@id", e.EventId).With("@t", e.Type).With("@a", e.AlertType)
            .With("@sev", e.Severity?.ToString()).With("@j", e.EventJson).With("@at", StoreDatabase.ToUnixMilliseconds(e.At));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private const string EventColumns = "seq, subscription_id, event_id, type, alert_type, severity, event_json, at";

    private static SecurityEventRecord ReadEvent(DbDataReader reader, int first) => new(
        reader.GetInt64(first), reader.GetString(first + 1), reader.GetString(first + 2), reader.GetString(first + 3), SqlCommands.NullableString(reader, first + 4),
        SqlCommands.NullableString(reader, first + 5) is string severity ? SqlCommands.ParseEnum<Severity>(severity) : null, reader.GetString(first + 6),
        StoreDatabase.FromUnixMilliseconds(reader.GetInt64(first + 7)));

    private async Task<bool> DeleteAsync(string sql, string subscriptionId, string name, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(writer.Connection, null, sql)
            .With("@s", SqlResourceGroupStore.Subscription(subscriptionId)).With("@k", ResourceIds.Key(name));
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }
}
