using TrustedLaunch.Attestation;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>A sanctioned restore is recorded and sets the VM's quote clock to its floor — the one way that record moves back.</summary>
public abstract class SanctionedRestoreStoreTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task RecordAsync_SetsTheClockToTheFloorEvenBackwards_ListsEveryRestore_OtherVmsUntouched()
    {
        var clocks = new SqlQuoteClockStore(Database);
        var restores = new SqlSanctionedRestoreStore(Database);
        var vm = Guid.NewGuid();
        var other = Guid.NewGuid();
        await clocks.AdvanceAsync(vm, new QuoteClock(9_000, 12, 0, Safe: true), T0, default);
        await clocks.AdvanceAsync(other, new QuoteClock(9_000, 12, 0, Safe: true), T0, default);

        var floor = new QuoteClock(4_000, 5, 0, Safe: true);
        await restores.RecordAsync(new SanctionedRestore(vm, "snap-a", floor, T0.AddMinutes(1)), default);

        Assert.Equal(new StoredQuoteClock(floor, T0.AddMinutes(1)), await clocks.GetAsync(vm, default));
        Assert.Equal(new QuoteClock(9_000, 12, 0, true), (await clocks.GetAsync(other, default))!.Clock);

        // Without a floor (no quote had been accepted before the copy was taken) the record starts anew.
        await restores.RecordAsync(new SanctionedRestore(vm, "backup-b", null, T0.AddMinutes(2)), default);
        Assert.Null(await clocks.GetAsync(vm, default));

        IReadOnlyList<SanctionedRestore> listed = await restores.ListAsync(vm, default);
        Assert.Equal([new SanctionedRestore(vm, "snap-a", floor, T0.AddMinutes(1)), new SanctionedRestore(vm, "backup-b", null, T0.AddMinutes(2))], listed);
        Assert.Empty(await restores.ListAsync(other, default));
    }
}

public sealed class SqliteSanctionedRestoreStoreTests() : SanctionedRestoreStoreTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresSanctionedRestoreStoreTests(PostgresFixture postgres) : SanctionedRestoreStoreTests(postgres.Engine);
