using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Hosts;

/// <summary>
/// The waiting part of a host's long-poll among replicas (docs/scale-out.md, host long-polls). Only the replica holding
/// the host's poll claim (<see cref="IHostPollClaims"/>) waits for the host's changes — a ring through
/// <see cref="HostSignals"/>, which the database doorbell passes between replicas — renewing the claim every third of its
/// duration. A poll that reaches a replica while another holds the claim waits for that claim to end (released, or
/// expired because its holder was killed), takes it, and has the caller re-read the desired state. The claim is released
/// when the poll answers, so the host's next poll is served wherever it lands.
/// </summary>
public sealed class HostPollWait(IHostPollClaims claims, HostSignals signals, TimeProvider time)
{
    // The shortest wait for another replica's claim to end: a claim contended this instant is asked for again after it.
    private static readonly TimeSpan MinimumClaimWait = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Waits until <paramref name="deadline"/>, until <paramref name="waitEnds"/> is cancelled, or until the host's desired
    /// state may have changed: a ring while this replica holds the claim, or the claim passing to this replica from
    /// another, after which <paramref name="unchanged"/> re-reads the state (true: keep waiting). <paramref name="changed"/>
    /// was taken from <see cref="HostSignals.NextAsync"/> before the caller read the state it answers against.
    /// </summary>
    public async Task WaitAsync(string hostName, Task changed, DateTimeOffset deadline, Func<Task<bool>> unchanged, CancellationToken waitEnds,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(unchanged);
        bool held = false, waitedForOther = false;
        try
        {
            while (!waitEnds.IsCancellationRequested)
            {
                DateTimeOffset now = time.GetUtcNow();
                if (now >= deadline)
                    return;
                DateTimeOffset? otherUntil = await claims.TryClaimAsync(hostName, now, cancellationToken);
                if (otherUntil is null)
                {
                    if (!held && waitedForOther)
                    {
                        // Taken over from another replica (or after contention): what changed meanwhile rang there, not here.
                        changed = signals.NextAsync(hostName);
                        held = true;
                        if (!await unchanged())
                            return;
                    }

                    held = true;

                    TimeSpan renewal = Shorter(claims.Duration / 3, deadline - now);
                    if (await Task.WhenAny(changed, Task.Delay(renewal, time, waitEnds)) == changed)
                        return;
                }
                else
                {
                    held = false;
                    waitedForOther = true;
                    // Looked at again when the claim ends, or sooner (every third of a claim) in case its holder releases it.
                    TimeSpan untilFree = Shorter(otherUntil.Value - now, claims.Duration / 3);
                    await Task.WhenAny(Task.Delay(Shorter(untilFree > MinimumClaimWait ? untilFree : MinimumClaimWait, deadline - now), time, waitEnds));
                }
            }
        }
        finally
        {
            if (held)
                await claims.ReleaseAsync(hostName, CancellationToken.None);
        }
    }

    private static TimeSpan Shorter(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
