using TrustedLaunch.Attestation;

namespace TrustedLaunch.Server.Stores;

/// <summary>
/// What one attestation reads before it decides: the registered VM, the policy it names (null when it names none, or
/// names one that is not stored), its learned baseline and the clock of its newest accepted quote.
/// </summary>
public sealed record AttestationState(RegisteredVm Vm, StoredPolicy? Policy, StoredBaseline? Baseline, StoredQuoteClock? QuoteClock);

/// <summary>
/// The writes that belong to an attestation's result and are committed with it, in one transaction: the quote clock
/// moved on (<see cref="IQuoteClockStore.AdvanceAsync"/>'s rule) and a newly learned baseline
/// (<see cref="IBaselineStore.SaveAsync"/>'s rule).
/// </summary>
public sealed record AttestationStateWrites(QuoteClock? QuoteClock, string? LearnedBaselineJson, DateTimeOffset At)
{
    /// <summary>Nothing besides the result.</summary>
    public static AttestationStateWrites None { get; } = new(null, null, DateTimeOffset.MinValue);
}

/// <summary>
/// The reads of one attestation in one statement on one connection (instead of one connection and round trip per
/// store), so the service's per-attestation cost is its work, not its plumbing (docs/benchmarks.md, issue 19).
/// </summary>
public interface IAttestationStateStore
{
    /// <summary>The VM's attestation state; null when the VM is not registered.</summary>
    Task<AttestationState?> ReadAsync(Guid vmId, CancellationToken cancellationToken);
}
