using TrustedLaunch.Attestation;

namespace TrustedLaunch.Server.Stores;

/// <summary>A VM's latest genuine quote clock and when the service accepted it.</summary>
public sealed record StoredQuoteClock(QuoteClock Clock, DateTimeOffset SeenAt);

/// <summary>
/// The clock of each VM's latest genuine quote (reset count, restart count, clock), against which the next quote
/// must not be older: what exposes a vTPM whose state was rolled back to an older copy.
/// </summary>
public interface IQuoteClockStore
{
    Task<StoredQuoteClock?> GetAsync(Guid vmId, CancellationToken cancellationToken);

    /// <summary>Records <paramref name="clock"/> unless the stored one is already later (concurrent requests never move it back).</summary>
    Task AdvanceAsync(Guid vmId, QuoteClock clock, DateTimeOffset seenAt, CancellationToken cancellationToken);
}
