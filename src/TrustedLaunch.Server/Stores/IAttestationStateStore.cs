using TrustedLaunch.Attestation;

namespace TrustedLaunch.Server.Stores;

/// <summary>
/// What one attestation reads before it decides: the registered VM, the policy it names (null when it names none, or
/// names one that is not stored), its learned baseline and the clock of its newest accepted quote; and, when the read
/// named the nonce the evidence presents, that nonce's row as issued to this VM (null when it was not issued to it).
/// </summary>
public sealed record AttestationState(RegisteredVm Vm, StoredPolicy? Policy, StoredBaseline? Baseline, StoredQuoteClock? QuoteClock)
{
    public StoredNonce? Nonce { get; init; }
}

/// <summary>A nonce as stored: when it was issued, until when it is valid, and when it was spent (null: not yet).</summary>
public sealed record StoredNonce(DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, DateTimeOffset? ConsumedAt)
{
    /// <summary>
    /// Whether it could be spent at <paramref name="now"/> as read. Only the spend itself decides (another request may
    /// spend it after this read); this lets a replay or a stale nonce be refused before any verification work.
    /// </summary>
    public NonceConsumption SpendableAt(DateTimeOffset now) =>
        ConsumedAt is not null ? NonceConsumption.AlreadyUsed : ExpiresAt <= now ? NonceConsumption.Expired : NonceConsumption.Consumed;
}

/// <summary>
/// The writes that belong to an attestation's result and are committed with it, in one transaction: the quote clock
/// moved on (<see cref="IQuoteClockStore.AdvanceAsync"/>'s rule) and a newly learned baseline
/// (<see cref="IBaselineStore.SaveAsync"/>'s rule).
/// </summary>
public sealed record AttestationStateWrites(QuoteClock? QuoteClock, string? LearnedBaselineJson, DateTimeOffset At)
{
    /// <summary>Nothing besides the result.</summary>
    public static AttestationStateWrites None { get; } = new(null, null, DateTimeOffset.MinValue);

    /// <summary>
    /// The result's posture fingerprint (<c>PostureFingerprint</c>), set by posture's decorator: when it is the one posture
    /// marked for the VM, the result is folded in its own transaction (docs/posture.md, a repeat folded where it is stored).
    /// </summary>
    public string? PostureFingerprint { get; init; }
}

/// <summary>
/// The reads of one attestation in one statement on one connection (instead of one connection and round trip per
/// store), so the service's per-attestation cost is its work, not its plumbing (docs/benchmarks.md, issue 19).
/// </summary>
public interface IAttestationStateStore
{
    /// <summary>The VM's attestation state; null when the VM is not registered.</summary>
    Task<AttestationState?> ReadAsync(Guid vmId, CancellationToken cancellationToken);

    /// <summary>
    /// The VM's attestation state with the row of <paramref name="nonce"/> if it was issued to this VM
    /// (<see cref="AttestationState.Nonce"/>), in the same statement; null when the VM is not registered.
    /// </summary>
    Task<AttestationState?> ReadAsync(Guid vmId, ReadOnlyMemory<byte> nonce, CancellationToken cancellationToken);
}
