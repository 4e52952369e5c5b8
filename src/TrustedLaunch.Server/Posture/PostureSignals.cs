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

/// <summary>The attestation result store, waking posture after every stored result (the result is in the database first).</summary>
internal sealed class SignallingResultStore(IAttestationResultStore inner, PostureSignals signals) : IAttestationResultStore
{
    public async Task<AttestationRecord> AddAsync(AttestationRecord record, CancellationToken cancellationToken)
    {
        AttestationRecord stored = await inner.AddAsync(record, cancellationToken);
        signals.Evaluate();
        return stored;
    }

    public async Task<AttestationRecord> AddAsync(AttestationRecord record, AttestationStateWrites writes, CancellationToken cancellationToken)
    {
        AttestationRecord stored = await inner.AddAsync(record, writes, cancellationToken);
        signals.Evaluate();
        return stored;
    }

    public async Task<SpentResult> AddSpendingNonceAsync(AttestationRecord record, AttestationStateWrites writes, ReadOnlyMemory<byte> nonce,
        CancellationToken cancellationToken)
    {
        SpentResult spent = await inner.AddSpendingNonceAsync(record, writes, nonce, cancellationToken);
        if (spent.Record is not null)
            signals.Evaluate();
        return spent;
    }

    public Task<IReadOnlyList<AttestationRecord>> ListAsync(Guid vmId, int limit, CancellationToken cancellationToken) =>
        inner.ListAsync(vmId, limit, cancellationToken);

    public Task<AttestationRecord?> GetLatestAsync(Guid vmId, CancellationToken cancellationToken) => inner.GetLatestAsync(vmId, cancellationToken);
}
