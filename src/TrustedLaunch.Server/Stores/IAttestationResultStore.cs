namespace TrustedLaunch.Server.Stores;

/// <summary>The outcome of one attestation.</summary>
public enum AttestationVerdict
{
    Pass,
    Fail,
}

/// <summary>
/// One stored attestation result. A failure carries the verifier's reason (an <c>AttestationFailureReason</c> name such
/// as <c>BaselineDeviation</c>), the component that failed and a human message; a pass carries the issued token's id.
/// </summary>
public sealed record AttestationRecord
{
    /// <summary>Store-assigned, increasing per store; 0 before the record is added.</summary>
    public long Id { get; init; }

    public required Guid VmId { get; init; }

    public required DateTimeOffset At { get; init; }

    public required AttestationVerdict Verdict { get; init; }

    public string? Reason { get; init; }

    public string? Component { get; init; }

    public string? Message { get; init; }

    /// <summary>The token claims (pass) or the appraisal summary (fail) as a JSON object, when there is one.</summary>
    public string? ClaimsJson { get; init; }

    /// <summary>The <c>jti</c> of the token issued for a pass.</summary>
    public string? TokenId { get; init; }

    /// <summary>
    /// Not stored: set on the record an add returns when the result repeated what posture already concluded for its VM and
    /// was folded in its own transaction (<see cref="AttestationStateWrites.PostureFingerprint"/>), so no engine needs to run.
    /// </summary>
    public bool PostureFolded { get; init; }
}

/// <summary>
/// What <see cref="IAttestationResultStore.AddSpendingNonceAsync"/> did: <see cref="NonceConsumption.Consumed"/> with the
/// stored record, or why the nonce could not be spent (and nothing was stored).
/// </summary>
public sealed record SpentResult(NonceConsumption Nonce, AttestationRecord? Record);

/// <summary>Every attestation result, passed or failed, kept for audit and for <c>GET …/attestations</c>.</summary>
public interface IAttestationResultStore
{
    /// <summary>Stores <paramref name="record"/> and returns it with its assigned <see cref="AttestationRecord.Id"/>.</summary>
    Task<AttestationRecord> AddAsync(AttestationRecord record, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="record"/> together with the attestation's other writes (<paramref name="writes"/>) in one
    /// transaction: one write turn and one commit per attestation rather than one per store.
    /// </summary>
    Task<AttestationRecord> AddAsync(AttestationRecord record, AttestationStateWrites writes, CancellationToken cancellationToken);

    /// <summary>
    /// Spends <paramref name="nonce"/> (issued to the record's VM, unused, unexpired at <see cref="AttestationStateWrites.At"/>)
    /// and stores <paramref name="record"/> with <paramref name="writes"/>, all in one transaction: either the nonce is
    /// spent and the result stored, or neither (a failed write leaves the nonce unspent). When the nonce cannot be spent
    /// nothing is written and the answer says why (<see cref="NonceConsumption"/>, its <see cref="SpentResult.Record"/> null).
    /// </summary>
    Task<SpentResult> AddSpendingNonceAsync(AttestationRecord record, AttestationStateWrites writes, ReadOnlyMemory<byte> nonce,
        CancellationToken cancellationToken);

    /// <summary>The newest <paramref name="limit"/> results of a VM, newest first.</summary>
    Task<IReadOnlyList<AttestationRecord>> ListAsync(Guid vmId, int limit, CancellationToken cancellationToken);

    Task<AttestationRecord?> GetLatestAsync(Guid vmId, CancellationToken cancellationToken);
}
