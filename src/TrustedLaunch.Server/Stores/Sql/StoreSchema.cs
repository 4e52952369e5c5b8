using System.Data.Common;
using System.Text.RegularExpressions;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;

namespace TrustedLaunch.Server.Stores.Sql;

/// <summary>
/// The service's schema, written once for both engines (docs/scale-out.md, "Adding a store"): portable DDL with SQLite's
/// type names <c>INTEGER</c>, <c>TEXT</c>, <c>BLOB</c> and <c>INTEGER PRIMARY KEY AUTOINCREMENT</c>, which
/// <see cref="ForPostgres"/> spells as PostgreSQL's. Every other construct used (partial indexes, foreign keys,
/// <c>ALTER TABLE … ADD COLUMN</c>, <c>IF NOT EXISTS</c>) means the same on both.
/// </summary>
public static partial class StoreSchema
{
    /// <summary>The schema version this code writes; an older database is migrated, a newer one refused.</summary>
    public const int Version = 20;

    // Each entry brings the schema from version index to index+1. Never edit a shipped entry: append a new one.
    internal static readonly string[] Migrations =
    [
        """
        CREATE TABLE IF NOT EXISTS vms (
            vm_id TEXT PRIMARY KEY NOT NULL,
            ak_ca_pem TEXT NULL,
            registered_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS nonces (
            nonce BLOB PRIMARY KEY NOT NULL,
            vm_id TEXT NOT NULL,
            issued_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            consumed_at INTEGER NULL);
        CREATE INDEX IF NOT EXISTS nonces_expires_at ON nonces (expires_at);
        CREATE TABLE IF NOT EXISTS attestation_results (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            vm_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            verdict TEXT NOT NULL,
            reason TEXT NULL,
            component TEXT NULL,
            message TEXT NULL,
            claims_json TEXT NULL,
            token_id TEXT NULL);
        CREATE INDEX IF NOT EXISTS attestation_results_vm ON attestation_results (vm_id, id);
        CREATE TABLE IF NOT EXISTS baselines (
            vm_id TEXT PRIMARY KEY NOT NULL,
            baseline_json TEXT NOT NULL,
            learned_at INTEGER NOT NULL,
            relearn_requested_at INTEGER NULL);
        """,
        // 2: named reference policies; a VM may name one (NULL: the built-in minimum). The conditional statements of
        // the stores keep the reference valid; the foreign key (enforced by every connection) is the second line.
        """
        CREATE TABLE policies (
            name TEXT PRIMARY KEY NOT NULL,
            policy_json TEXT NOT NULL,
            updated_at INTEGER NOT NULL);
        ALTER TABLE vms ADD COLUMN policy_name TEXT NULL REFERENCES policies (name);
        CREATE INDEX vms_policy_name ON vms (policy_name);
        """,
        // 3: the clock of each VM's latest genuine quote (QuoteClock), so a rolled-back vTPM's older quote is refused.
        """
        CREATE TABLE quote_clocks (
            vm_id TEXT PRIMARY KEY NOT NULL,
            reset_count INTEGER NOT NULL,
            restart_count INTEGER NOT NULL,
            clock INTEGER NOT NULL,
            safe INTEGER NOT NULL,
            seen_at INTEGER NOT NULL);
        """,
        // 4: the control plane (docs/control-plane.md): subscriptions, resource groups, hosts, VMs, their operations and
        // the image catalog. Names are stored as given and compared by an upper-case key (ARM names are case-insensitive).
        // change_sequence numbers every VM write; a write compare-and-swaps on the number it read.
        """
        CREATE TABLE subscriptions (
            subscription_id TEXT PRIMARY KEY NOT NULL,
            display_name TEXT NOT NULL,
            is_default INTEGER NOT NULL,
            created_at INTEGER NOT NULL);
        CREATE UNIQUE INDEX subscriptions_one_default ON subscriptions (is_default) WHERE is_default = 1;
        CREATE TABLE resource_groups (
            subscription_id TEXT NOT NULL REFERENCES subscriptions (subscription_id),
            name_key TEXT NOT NULL,
            name TEXT NOT NULL,
            location TEXT NOT NULL,
            tags_json TEXT NULL,
            version INTEGER NOT NULL,
            state TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (subscription_id, name_key));
        CREATE TABLE hosts (
            name_key TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            vcpus INTEGER NOT NULL,
            memory_mb INTEGER NOT NULL,
            accelerator TEXT NOT NULL,
            agent_version TEXT NULL,
            registered_at INTEGER NOT NULL,
            last_seen_at INTEGER NOT NULL);
        CREATE TABLE virtual_machines (
            subscription_id TEXT NOT NULL,
            group_key TEXT NOT NULL,
            name_key TEXT NOT NULL,
            resource_group TEXT NOT NULL,
            name TEXT NOT NULL,
            vm_id TEXT NOT NULL UNIQUE,
            location TEXT NOT NULL,
            version INTEGER NOT NULL,
            model_json TEXT NOT NULL,
            provisioning_state TEXT NOT NULL,
            desired_power TEXT NOT NULL,
            actual_power TEXT NULL,
            host_key TEXT NULL REFERENCES hosts (name_key),
            host_name TEXT NULL,
            vcpus INTEGER NOT NULL,
            memory_mb INTEGER NOT NULL,
            generation TEXT NOT NULL,
            pending_operation_id TEXT NULL,
            restart_generation INTEGER NOT NULL,
            time_created INTEGER NOT NULL,
            report_json TEXT NULL,
            change_seq INTEGER NOT NULL,
            PRIMARY KEY (subscription_id, group_key, name_key),
            FOREIGN KEY (subscription_id, group_key) REFERENCES resource_groups (subscription_id, name_key));
        CREATE INDEX virtual_machines_host ON virtual_machines (host_key);
        CREATE INDEX virtual_machines_unplaced ON virtual_machines (time_created) WHERE host_key IS NULL;
        CREATE TABLE operations (
            operation_id TEXT PRIMARY KEY NOT NULL,
            subscription_id TEXT NOT NULL,
            location TEXT NOT NULL,
            resource_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            error_json TEXT NULL,
            start_time INTEGER NOT NULL,
            end_time INTEGER NULL,
            target_version INTEGER NULL);
        CREATE TABLE images (
            publisher_key TEXT NOT NULL,
            offer_key TEXT NOT NULL,
            sku_key TEXT NOT NULL,
            version TEXT NOT NULL,
            publisher TEXT NOT NULL,
            offer TEXT NOT NULL,
            sku TEXT NOT NULL,
            file_path TEXT NOT NULL,
            generation TEXT NOT NULL,
            secure_boot_json TEXT NOT NULL,
            registered_at INTEGER NOT NULL,
            PRIMARY KEY (publisher_key, offer_key, sku_key, version));
        CREATE TABLE change_sequence (id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1), value INTEGER NOT NULL);
        INSERT INTO change_sequence (id, value) VALUES (1, 0);
        """,
        // 5: posture (docs/posture.md): assessments and their status history, alerts (one open per de-duplication key),
        // plans, suppression rules, webhook subscriptions, the event stream (alerts:watch, webhooks), the webhook
        // outbox and delivery log, and the cursors of the evaluation (processed attestation results, VM changes).
        """
        CREATE TABLE security_assessments (
            vm_id TEXT NOT NULL,
            assessment_key TEXT NOT NULL,
            subscription_id TEXT NOT NULL,
            group_key TEXT NOT NULL,
            resource_id TEXT NOT NULL,
            status TEXT NOT NULL,
            cause TEXT NULL,
            description TEXT NOT NULL,
            first_evaluated_at INTEGER NOT NULL,
            status_changed_at INTEGER NOT NULL,
            PRIMARY KEY (vm_id, assessment_key));
        CREATE INDEX security_assessments_scope ON security_assessments (subscription_id, group_key);
        CREATE TABLE security_assessment_history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            vm_id TEXT NOT NULL,
            assessment_key TEXT NOT NULL,
            status TEXT NOT NULL,
            cause TEXT NULL,
            description TEXT NOT NULL,
            at INTEGER NOT NULL);
        CREATE INDEX security_assessment_history_vm ON security_assessment_history (vm_id, assessment_key, id);
        CREATE TABLE security_alerts (
            name TEXT PRIMARY KEY NOT NULL,
            subscription_id TEXT NOT NULL,
            group_key TEXT NOT NULL,
            vm_id TEXT NOT NULL,
            dedup_key TEXT NOT NULL,
            status TEXT NOT NULL,
            alert_json TEXT NOT NULL);
        CREATE UNIQUE INDEX security_alerts_open ON security_alerts (dedup_key) WHERE status IN ('Active', 'InProgress');
        CREATE INDEX security_alerts_scope ON security_alerts (subscription_id, group_key, name);
        CREATE INDEX security_alerts_vm ON security_alerts (vm_id);
        CREATE TABLE security_pricings (
            subscription_id TEXT PRIMARY KEY NOT NULL,
            tier TEXT NOT NULL,
            changed_at INTEGER NOT NULL);
        CREATE TABLE security_suppression_rules (
            subscription_id TEXT NOT NULL,
            name_key TEXT NOT NULL,
            rule_json TEXT NOT NULL,
            PRIMARY KEY (subscription_id, name_key));
        CREATE TABLE security_webhooks (
            subscription_id TEXT NOT NULL,
            name_key TEXT NOT NULL,
            webhook_json TEXT NOT NULL,
            secret TEXT NOT NULL,
            PRIMARY KEY (subscription_id, name_key));
        CREATE TABLE security_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription_id TEXT NOT NULL,
            event_id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            alert_type TEXT NULL,
            severity TEXT NULL,
            event_json TEXT NOT NULL,
            at INTEGER NOT NULL);
        CREATE INDEX security_events_subscription ON security_events (subscription_id, seq);
        CREATE TABLE security_outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription_id TEXT NOT NULL,
            webhook_key TEXT NOT NULL,
            event_seq INTEGER NOT NULL REFERENCES security_events (seq),
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL,
            UNIQUE (subscription_id, webhook_key, event_seq));
        CREATE INDEX security_outbox_due ON security_outbox (state, next_attempt_at);
        CREATE TABLE security_deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription_id TEXT NOT NULL,
            webhook_key TEXT NOT NULL,
            event_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            at INTEGER NOT NULL,
            status_code INTEGER NULL,
            outcome TEXT NOT NULL,
            error TEXT NULL);
        CREATE INDEX security_deliveries_webhook ON security_deliveries (subscription_id, webhook_key, id);
        CREATE TABLE posture_cursors (
            name TEXT PRIMARY KEY NOT NULL,
            value INTEGER NOT NULL);
        CREATE TABLE posture_vm_state (
            vm_id TEXT PRIMARY KEY NOT NULL,
            running INTEGER NOT NULL,
            restart_generation INTEGER NOT NULL,
            running_since INTEGER NULL);
        CREATE TABLE security_remediations (
            vm_id TEXT NOT NULL,
            assessment_key TEXT NOT NULL,
            remediation_json TEXT NOT NULL,
            PRIMARY KEY (vm_id, assessment_key));
        """,
        // 6: a request to attest a VM now (tl vm attest): its host attests when the number rises above the one it handled.
        """
        ALTER TABLE virtual_machines ADD COLUMN attestation_generation INTEGER NOT NULL DEFAULT 0;
        """,
        // 7: leases of the replicas sharing one database (docs/scale-out.md): a named lease is held by one replica until
        // expires_at (Unix ms) unless renewed; the maintenance leader is the holder of the lease 'maintenance'.
        """
        CREATE TABLE leases (
            name TEXT PRIMARY KEY NOT NULL,
            holder TEXT NOT NULL,
            expires_at INTEGER NOT NULL,
            acquired_at INTEGER NOT NULL);
        """,
        // 8: restores of a VM's guest state its owner asked for (docs/lifecycle.md), each with the quote-clock floor it set.
        """
        CREATE TABLE sanctioned_restores (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            vm_id TEXT NOT NULL,
            restored_at INTEGER NOT NULL,
            source TEXT NOT NULL,
            floor_reset_count INTEGER NULL,
            floor_restart_count INTEGER NULL,
            floor_clock INTEGER NULL,
            floor_safe INTEGER NULL);
        CREATE INDEX sanctioned_restores_by_vm ON sanctioned_restores (vm_id, restored_at);
        """,
        // 9: flexible scale sets (docs/scale-sets.md): the model as JSON; instances are virtual_machines rows naming it.
        """
        CREATE TABLE virtual_machine_scale_sets (
            subscription_id TEXT NOT NULL,
            group_key TEXT NOT NULL,
            name_key TEXT NOT NULL,
            resource_group TEXT NOT NULL,
            name TEXT NOT NULL,
            unique_id TEXT NOT NULL,
            location TEXT NOT NULL,
            version INTEGER NOT NULL,
            model_json TEXT NOT NULL,
            provisioning_state TEXT NOT NULL,
            pending_operation_id TEXT NULL,
            time_created INTEGER NOT NULL,
            PRIMARY KEY (subscription_id, group_key, name_key));
        """,
        // 10: who may do what (docs/security.md): service principals (API keys stored as SHA-256 of a 256-bit secret),
        // single-use host join tokens, the host client certificates issued at enrollment, and the audit log of writes.
        """
        CREATE TABLE principals (
            object_id TEXT PRIMARY KEY NOT NULL,
            app_id TEXT NOT NULL UNIQUE,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL,
            scope TEXT NOT NULL,
            secret_sha256 BLOB NOT NULL,
            created_at INTEGER NOT NULL);
        CREATE TABLE host_join_tokens (
            token_sha256 BLOB PRIMARY KEY NOT NULL,
            host_name TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER NULL);
        CREATE TABLE host_certificates (
            serial TEXT PRIMARY KEY NOT NULL,
            host_name TEXT NOT NULL,
            issued_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            revoked_at INTEGER NULL);
        CREATE TABLE audit_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at INTEGER NOT NULL,
            caller TEXT NOT NULL,
            caller_kind TEXT NOT NULL,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            status INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            remote_address TEXT NULL);
        CREATE INDEX audit_events_at ON audit_events (at);
        """,
        // 11: template deployments (Microsoft.Resources/deployments) and the resources only deployments and the network
        // model make: Microsoft.Network types and VM extensions, each its ARM body as JSON.
        """
        CREATE TABLE deployments (
            subscription_id TEXT NOT NULL,
            group_key TEXT NOT NULL,
            name_key TEXT NOT NULL,
            resource_group TEXT NOT NULL,
            name TEXT NOT NULL,
            provisioning_state TEXT NOT NULL,
            record_json TEXT NOT NULL,
            PRIMARY KEY (subscription_id, group_key, name_key));
        CREATE INDEX deployments_active ON deployments (provisioning_state);
        CREATE TABLE arm_resources (
            subscription_id TEXT NOT NULL,
            group_key TEXT NOT NULL,
            type_key TEXT NOT NULL,
            name_key TEXT NOT NULL,
            resource_group TEXT NOT NULL,
            type TEXT NOT NULL,
            name TEXT NOT NULL,
            location TEXT NOT NULL,
            version INTEGER NOT NULL,
            body_json TEXT NOT NULL,
            changed_at INTEGER NOT NULL,
            PRIMARY KEY (subscription_id, group_key, type_key, name_key));
        """,
        // 12: Microsoft.Compute/snapshots: the record as JSON, found by key, by id (the folder on its host) and by host.
        """
        CREATE TABLE snapshots (
            subscription_id TEXT NOT NULL,
            group_key TEXT NOT NULL,
            name_key TEXT NOT NULL,
            snapshot_id TEXT NOT NULL UNIQUE,
            host_key TEXT NOT NULL,
            provisioning_state TEXT NOT NULL,
            version INTEGER NOT NULL,
            record_json TEXT NOT NULL,
            PRIMARY KEY (subscription_id, group_key, name_key));
        CREATE INDEX snapshots_host ON snapshots (host_key);
        """,
        // 13: posture work claimed per VM by any replica (docs/scale-out.md): a stored result bumps stored_seq; a claim
        // (FOR UPDATE SKIP LOCKED on PostgreSQL) sets claimed_by/claimed_until; the evaluation folds the VM's results after
        // folded_result_id and, in its own transaction, moves folded_result_id and done_seq only while the claim is still its own.
        // Existing VMs start at the results cursor the leader-only worker had reached.
        """
        CREATE TABLE posture_work (
            vm_id TEXT PRIMARY KEY NOT NULL,
            stored_seq INTEGER NOT NULL,
            done_seq INTEGER NOT NULL,
            folded_result_id INTEGER NOT NULL,
            claimed_by TEXT NULL,
            claimed_until INTEGER NULL);
        CREATE INDEX posture_work_pending ON posture_work (vm_id) WHERE stored_seq > done_seq;
        INSERT INTO posture_work (vm_id, stored_seq, done_seq, folded_result_id)
            SELECT r.vm_id, CASE WHEN MAX(r.id) > c.value THEN 1 ELSE 0 END, 0, c.value
            FROM attestation_results r, (SELECT COALESCE(MAX(value), 0) AS value FROM posture_cursors WHERE name = 'attestation-results') c
            GROUP BY r.vm_id, c.value;
        """,
        // 14: a VM's pending or last Secure Boot key update (docs/secureboot-rollover.md), as JSON.
        """
        ALTER TABLE virtual_machines ADD COLUMN secure_boot_key_update_json TEXT NULL;
        """,
        // 15: Microsoft.Compute/disks: the record as JSON, found by key, by uniqueId, by the VM it is attached to and (Unattached)
        // by the host that keeps its files. VMs made before this get their disk row from migration 16.
        """
        CREATE TABLE disks (
            subscription_id TEXT NOT NULL,
            group_key TEXT NOT NULL,
            name_key TEXT NOT NULL,
            disk_id TEXT NOT NULL UNIQUE,
            managed_by_vm_id TEXT NULL,
            host_key TEXT NULL,
            provisioning_state TEXT NOT NULL,
            version INTEGER NOT NULL,
            record_json TEXT NOT NULL,
            PRIMARY KEY (subscription_id, group_key, name_key));
        CREATE INDEX disks_managed_by ON disks (managed_by_vm_id);
        CREATE INDEX disks_host ON disks (host_key);
        """,
        // 16: every VM made before 15 gets its OS disk row, and every VM's model names its disk (Steps[15], OsDiskBackfill). No DDL.
        "",
        // 17: which replica serves a host's long-poll (docs/scale-out.md, host long-polls): one row per host that polled,
        // claimed by the replica serving its poll until claimed_until, renewed while the poll waits, taken over after expiry.
        """
        CREATE TABLE host_poll_claims (
            host_key TEXT PRIMARY KEY NOT NULL,
            claimed_by TEXT NULL,
            claimed_until INTEGER NULL);
        """,
        // 18: posture's caches (PostureEngine): every batch that writes a VM's assessments counts up the VM's version, so an
        // engine that holds them at the version it reads back needs not read them again.
        // Plans and suppression rules have one version, counted up with every write of either, for the same purpose.
        """
        ALTER TABLE posture_vm_state ADD COLUMN assessments_version INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE security_settings_version (id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1), value INTEGER NOT NULL);
        INSERT INTO security_settings_version (id, value) VALUES (1, 0);
        """,
        // 19: VM changes evaluated by whichever replica claims them (docs/scale-out.md, posture work): fed from the VMs' change
        // sequence past the "vm-changes" cursor (moved in the same transaction), one row per changed VM until evaluated.
        """
        CREATE TABLE posture_vm_changes (
            vm_id TEXT PRIMARY KEY NOT NULL,
            change_seq INTEGER NOT NULL,
            claimed_by TEXT NULL,
            claimed_until INTEGER NULL);
        """,
        // 20: a repeat folded where it is stored (docs/posture.md). posture_work: the fingerprint of the result an engine last
        // folded for the VM when a result like it would change nothing but alert counts (repeat_fp, '' when it would), valid
        // while the VM's change_seq and the security settings' version are the ones it was computed at, the tag of the open
        // alerts such a result repeats, an epoch every clearing counts up (a mark computed before is not set), and the
        // repeats folded under the mark (count, newest time and result), which the tagged alerts add to their own.
        // security_alerts: count, end time and last result as columns (Steps[19] fills them for existing alerts) and the tag.
        """
        ALTER TABLE posture_work ADD COLUMN repeat_fp TEXT NOT NULL DEFAULT '';
        ALTER TABLE posture_work ADD COLUMN repeat_tag TEXT NOT NULL DEFAULT '';
        ALTER TABLE posture_work ADD COLUMN repeat_vm_seq INTEGER NOT NULL DEFAULT -1;
        ALTER TABLE posture_work ADD COLUMN repeat_settings INTEGER NOT NULL DEFAULT -1;
        ALTER TABLE posture_work ADD COLUMN repeat_epoch INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE posture_work ADD COLUMN repeat_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE posture_work ADD COLUMN repeat_last_at INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE posture_work ADD COLUMN repeat_last_result INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE security_alerts ADD COLUMN alert_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE security_alerts ADD COLUMN end_time INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE security_alerts ADD COLUMN last_result_id INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE security_alerts ADD COLUMN repeats_with TEXT NOT NULL DEFAULT '';
        """,
    ];

    /// <summary>
    /// What a migration needs beyond portable SQL, keyed by the index of its entry in <see cref="Migrations"/>: run after that entry's
    /// SQL, in the same transaction. A step reads only the columns that exist at its version.
    /// </summary>
    internal static readonly IReadOnlyDictionary<int, Func<DbConnection, DbTransaction, CancellationToken, Task>> Steps =
        new Dictionary<int, Func<DbConnection, DbTransaction, CancellationToken, Task>>
        {
            [15] = OsDiskBackfill.RunAsync,
            [19] = TrustedLaunch.Server.Posture.Stores.AlertColumnsBackfill.RunAsync,
        };

    /// <summary>A migration in PostgreSQL's type names: 64-bit integers (times are Unix milliseconds), bytea, identity keys.</summary>
    public static string ForPostgres(string migration)
    {
        ArgumentNullException.ThrowIfNull(migration);
        string identity = AutoIncrementKey().Replace(migration, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
        return Blob().Replace(Integer().Replace(identity, "BIGINT"), "BYTEA");
    }

    [GeneratedRegex(@"\bINTEGER PRIMARY KEY AUTOINCREMENT\b")]
    private static partial Regex AutoIncrementKey();

    [GeneratedRegex(@"\bINTEGER\b")]
    private static partial Regex Integer();

    [GeneratedRegex(@"\bBLOB\b")]
    private static partial Regex Blob();
}
