using System.Globalization;
using TrustedLaunch.Attestation;
using TrustedLaunch.ControlPlane.Snapshots;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.ControlPlane;

/// <summary>
/// <see cref="IQuoteClockFloors"/> over the attestation service's stores: a snapshot keeps the VM's latest accepted quote clock
/// (<c>clock:reset:restart:safe</c>), and a restore of it is recorded as a sanctioned restore down to that floor.
/// </summary>
public sealed class QuoteClockFloors(IQuoteClockStore clocks, ISanctionedRestoreStore restores, TimeProvider time) : IQuoteClockFloors
{
    public async Task<string?> CaptureAsync(Guid vmId, CancellationToken cancellationToken) =>
        await clocks.GetAsync(vmId, cancellationToken) is StoredQuoteClock { Clock: var c }
            ? string.Create(CultureInfo.InvariantCulture, $"{c.Clock}:{c.ResetCount}:{c.RestartCount}:{(c.Safe ? 1 : 0)}")
            : null;

    public Task SanctionAsync(Guid vmId, string source, string? floor, CancellationToken cancellationToken) =>
        restores.RecordAsync(new SanctionedRestore(vmId, source, Parse(floor), time.GetUtcNow()), cancellationToken);

    private static QuoteClock? Parse(string? floor)
    {
        if (floor?.Split(':') is not [var clock, var reset, var restart, var safe])
            return null;
        return new QuoteClock(ulong.Parse(clock, CultureInfo.InvariantCulture), uint.Parse(reset, CultureInfo.InvariantCulture),
            uint.Parse(restart, CultureInfo.InvariantCulture), safe == "1");
    }
}
