using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Posture;

/// <summary>In-process wake-ups: a stored attestation result wakes the posture worker; a new event wakes the dispatcher and the watchers.</summary>
public sealed class PostureSignals
{
    private TaskCompletionSource _evaluate = NewSource();
    private TaskCompletionSource _events = NewSource();

    public Task NextEvaluationAsync() => Volatile.Read(ref _evaluate).Task;

    public Task NextEventsAsync() => Volatile.Read(ref _events).Task;

    public void Evaluate() => Interlocked.Exchange(ref _evaluate, NewSource()).TrySetResult();

    public void EventsAppended() => Interlocked.Exchange(ref _events, NewSource()).TrySetResult();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// The attestation result store as posture needs it: each result carries its posture fingerprint, so that one repeating
/// what posture concluded for its VM is folded where it is stored (docs/posture.md); any other result wakes the posture
/// worker once it is in the database.
/// </summary>
internal sealed class SignallingResultStore(IAttestationResultStore inner, PostureSignals signals) : IAttestationResultStore
{
    public Task<AttestationRecord> AddAsync(AttestationRecord record, CancellationToken cancellationToken) =>
        AddAsync(record, AttestationStateWrites.None, cancellationToken);

    public async Task<AttestationRecord> AddAsync(AttestationRecord record, AttestationStateWrites writes, CancellationToken cancellationToken)
    {
        AttestationRecord stored = await inner.AddAsync(record, WithFingerprint(record, writes), cancellationToken);
        if (!stored.PostureFolded)
            signals.Evaluate();
        return stored;
    }

    public async Task<SpentResult> AddSpendingNonceAsync(AttestationRecord record, AttestationStateWrites writes, ReadOnlyMemory<byte> nonce,
        CancellationToken cancellationToken)
    {
        SpentResult spent = await inner.AddSpendingNonceAsync(record, WithFingerprint(record, writes), nonce, cancellationToken);
        if (spent.Record is { PostureFolded: false })
            signals.Evaluate();
        return spent;
    }

    public Task<IReadOnlyList<AttestationRecord>> ListAsync(Guid vmId, int limit, CancellationToken cancellationToken) =>
        inner.ListAsync(vmId, limit, cancellationToken);

    public Task<AttestationRecord?> GetLatestAsync(Guid vmId, CancellationToken cancellationToken) => inner.GetLatestAsync(vmId, cancellationToken);

    private static AttestationStateWrites WithFingerprint(AttestationRecord record, AttestationStateWrites writes)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(writes);
        return PostureFingerprint.Of(record) is string fingerprint ? writes with { PostureFingerprint = fingerprint } : writes;
    }
}
