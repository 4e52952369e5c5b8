using TrustedLaunch.Attestation;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>Each VM's latest quote clock: it only ever moves forward, in QuoteClock's order.</summary>
public abstract class QuoteClockStoreTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);

    private SqlQuoteClockStore Clocks => new(Database);

    [Fact]
    public async Task AdvanceAsync_LaterClocksReplaceOlderOnesNever()
    {
        var vm = Guid.NewGuid();
        Assert.Null(await Clocks.GetAsync(vm, default));

        await Clocks.AdvanceAsync(vm, new QuoteClock(5_000, 3, 0, Safe: true), T0, default);
        Assert.Equal(new StoredQuoteClock(new QuoteClock(5_000, 3, 0, true), T0), await Clocks.GetAsync(vm, default));

        // A slower concurrent request's older quote, and one from before the last reboot: both leave the record alone.
        await Clocks.AdvanceAsync(vm, new QuoteClock(4_000, 3, 0, Safe: true), T0, default);
        await Clocks.AdvanceAsync(vm, new QuoteClock(900_000, 2, 7, Safe: true), T0, default);
        Assert.Equal(new StoredQuoteClock(new QuoteClock(5_000, 3, 0, true), T0), await Clocks.GetAsync(vm, default));

        // A reboot (reset count up) restarts the clock lower; that is later.
        await Clocks.AdvanceAsync(vm, new QuoteClock(120, 4, 0, Safe: false), T0.AddMinutes(1), default);
        Assert.Equal(new StoredQuoteClock(new QuoteClock(120, 4, 0, false), T0.AddMinutes(1)), await Clocks.GetAsync(vm, default));
        Assert.Null(await Clocks.GetAsync(Guid.NewGuid(), default));
    }
}

public sealed class SqliteQuoteClockStoreTests() : QuoteClockStoreTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresQuoteClockStoreTests(PostgresFixture postgres) : QuoteClockStoreTests(postgres.Engine);
