using System.Data.Common;
using TrustedLaunch.Attestation;

namespace TrustedLaunch.Server.Stores.Sql;

/// <summary>
/// <see cref="IAttestationStateStore"/> on <see cref="StoreDatabase"/>: the VM and its policy, baseline, quote clock and the
/// presented nonce by one join.
/// </summary>
public sealed class SqlAttestationStateStore(StoreDatabase database) : IAttestationStateStore
{
    // Every joined table is keyed by the VM (or, for the policy, by the name the VM row holds; for the nonce, by its
    // value, and only a nonce issued to this VM joins): one row or none.
    private const string Query = """
        SELECT v.vm_id, v.ak_ca_pem, v.registered_at, v.policy_name,
               p.policy_json, p.updated_at,
               b.baseline_json, b.learned_at, b.relearn_requested_at,
               q.clock, q.reset_count, q.restart_count, q.safe, q.seen_at,
               n.issued_at, n.expires_at, n.consumed_at
        FROM vms v
        LEFT JOIN policies p ON p.name = v.policy_name
        LEFT JOIN baselines b ON b.vm_id = v.vm_id
        LEFT JOIN quote_clocks q ON q.vm_id = v.vm_id
        LEFT JOIN nonces n ON n.nonce = @nonce AND n.vm_id = v.vm_id
        WHERE v.vm_id = @vm
        """;

    // No nonce is empty: an empty value matches no stored nonce, and keeps the parameter's type (bytes) on both engines.
    public Task<AttestationState?> ReadAsync(Guid vmId, CancellationToken cancellationToken) =>
        ReadAsync(vmId, ReadOnlyMemory<byte>.Empty, cancellationToken);

    public async Task<AttestationState?> ReadAsync(Guid vmId, ReadOnlyMemory<byte> nonce, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Prepared(connection, null, Query)
            .With("@vm", SqlNonceStore.VmKey(vmId))
            .With("@nonce", nonce.ToArray());
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;
        string? policyName = SqlCommands.NullableString(reader, 3);
        var vm = new RegisteredVm(vmId, SqlCommands.NullableString(reader, 1), StoreDatabase.FromUnixMilliseconds(reader.GetInt64(2)), policyName);
        StoredPolicy? policy = policyName is null || reader.IsDBNull(4)
            ? null
            : new StoredPolicy(policyName, reader.GetString(4), StoreDatabase.FromUnixMilliseconds(reader.GetInt64(5)));
        StoredBaseline? baseline = null;
        if (!reader.IsDBNull(6))
        {
            DateTimeOffset? relearnAt = reader.IsDBNull(8) ? null : StoreDatabase.FromUnixMilliseconds(reader.GetInt64(8));
            baseline = new StoredBaseline(vmId, reader.GetString(6), StoreDatabase.FromUnixMilliseconds(reader.GetInt64(7)), relearnAt is not null, relearnAt);
        }

        StoredQuoteClock? clock = reader.IsDBNull(9)
            ? null
            : new StoredQuoteClock(
                new QuoteClock((ulong)reader.GetInt64(9), (uint)reader.GetInt64(10), (uint)reader.GetInt64(11), reader.GetInt64(12) != 0),
                StoreDatabase.FromUnixMilliseconds(reader.GetInt64(13)));
        StoredNonce? presented = reader.IsDBNull(14)
            ? null
            : new StoredNonce(StoreDatabase.FromUnixMilliseconds(reader.GetInt64(14)), StoreDatabase.FromUnixMilliseconds(reader.GetInt64(15)),
                reader.IsDBNull(16) ? null : StoreDatabase.FromUnixMilliseconds(reader.GetInt64(16)));
        return new AttestationState(vm, policy, baseline, clock) { Nonce = presented };
    }
}
