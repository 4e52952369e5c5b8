using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Snapshots;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>The snapshot store on either engine: insert under the group's admission, compare-and-swap, the operation in the same write, look-ups.</summary>
public abstract class SnapshotStoreTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);

    private async Task<string> GroupAsync(string group = "rg1", ResourceGroupState state = ResourceGroupState.Succeeded)
    {
        SubscriptionRecord subscription = await new SqlSubscriptionStore(Database).EnsureDefaultAsync(T0, default);
        Assert.Equal(WriteOutcome.Written, await new SqlResourceGroupStore(Database).SaveAsync(new ResourceGroupRecord
        {
            SubscriptionId = subscription.SubscriptionId, Name = group, Location = "westus", Version = 1, State = state, CreatedAt = T0,
        }, null, default));
        return subscription.SubscriptionId;
    }

    private static SnapshotRecord Snapshot(string subscription, string name, string host = "host1", string group = "rg1") => new()
    {
        SubscriptionId = subscription, ResourceGroup = group, Name = name, SnapshotId = Guid.NewGuid(), Location = "westus", Version = 1,
        ProvisioningState = ProvisioningState.Creating, TimeCreated = T0, SourceResourceId = "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1",
        SourceVirtualMachineId = "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1", SourceVmId = Guid.NewGuid(),
        HostName = host, SecurityType = "TrustedLaunch", Generation = HyperVGeneration.V2, VmSize = "Standard_D2s_v3",
        ImageReference = new ImageReference { Publisher = "Debian", Offer = "debian-12", Sku = "12-gen2", Version = "latest", ExactVersion = "1.1.0" },
        Tags = new Dictionary<string, string> { ["env"] = "test" },
    };

    private static OperationRecord Operation(string subscription) => new()
    {
        OperationId = Guid.NewGuid().ToString(), SubscriptionId = subscription, Location = "westus", ResourceId = "/x", Kind = OperationKind.Create,
        Status = OperationStatus.InProgress, StartTime = T0,
    };

    [Fact]
    public async Task Insert_ThenGetByKeyIdAndHost_RoundTripsTheRecord_AndItsOperation()
    {
        string subscription = await GroupAsync();
        var store = new SqlSnapshotStore(Database);
        SnapshotRecord snapshot = Snapshot(subscription, "Snap1");
        OperationRecord operation = Operation(subscription);

        WriteOutcome written = await store.WriteAsync(new SnapshotWrite { Key = snapshot.Key, Record = snapshot, Operations = [operation] }, default);
        SnapshotRecord? byKey = await store.GetAsync(new SnapshotKey(subscription.ToUpperInvariant(), "RG1", "snap1"), default);
        SnapshotRecord? byId = await new SqlSnapshotStore(OpenReplica()).GetByIdAsync(snapshot.SnapshotId, default);

        Assert.Equal(WriteOutcome.Written, written);
        Assert.NotNull(byKey);
        Assert.Equal(snapshot.SnapshotId, byKey.SnapshotId);
        Assert.Equal("1.1.0", byKey.ImageReference.ExactVersion);
        Assert.Equal("test", byKey.Tags!["env"]);
        Assert.Equal(snapshot.SourceVmId, byId!.SourceVmId);
        Assert.Single(await store.ListByHostAsync("HOST1", default));
        Assert.Empty(await store.ListByHostAsync("host2", default));
        Assert.Equal(OperationStatus.InProgress, (await new SqlOperationStore(Database).GetAsync(operation.OperationId, default))!.Status);
    }

    [Fact]
    public async Task Insert_TwiceOrIntoAMissingOrDeletingGroup_Refused()
    {
        string subscription = await GroupAsync();
        await GroupAsync("going", ResourceGroupState.Deleting);
        var store = new SqlSnapshotStore(Database);
        SnapshotRecord snapshot = Snapshot(subscription, "snap1");
        await store.WriteAsync(new SnapshotWrite { Key = snapshot.Key, Record = snapshot }, default);

        SnapshotRecord again = Snapshot(subscription, "SNAP1");
        SnapshotRecord missing = Snapshot(subscription, "s", group: "nosuch");
        SnapshotRecord deleting = Snapshot(subscription, "s", group: "going");

        Assert.Equal(WriteOutcome.Conflict, await store.WriteAsync(new SnapshotWrite { Key = again.Key, Record = again }, default));
        Assert.Equal(WriteOutcome.ResourceGroupMissing, await store.WriteAsync(new SnapshotWrite { Key = missing.Key, Record = missing }, default));
        Assert.Equal(WriteOutcome.ResourceGroupDeleting, await store.WriteAsync(new SnapshotWrite { Key = deleting.Key, Record = deleting }, default));
        Assert.Single(await store.ListAsync(subscription, null, default));
    }

    [Fact]
    public async Task Update_AndRemove_CompareAndSwapOnTheVersion()
    {
        string subscription = await GroupAsync();
        var store = new SqlSnapshotStore(Database);
        SnapshotRecord snapshot = Snapshot(subscription, "snap1");
        await store.WriteAsync(new SnapshotWrite { Key = snapshot.Key, Record = snapshot }, default);
        SnapshotRecord succeeded = snapshot with { ProvisioningState = ProvisioningState.Succeeded, Version = 2, DiskSizeBytes = 42 };

        WriteOutcome first = await store.WriteAsync(new SnapshotWrite { Key = snapshot.Key, Record = succeeded, ExpectedVersion = 1 }, default);
        WriteOutcome stale = await store.WriteAsync(new SnapshotWrite { Key = snapshot.Key, Record = snapshot with { Version = 2 }, ExpectedVersion = 1 }, default);
        WriteOutcome staleRemove = await store.WriteAsync(new SnapshotWrite { Key = snapshot.Key, ExpectedVersion = 1 }, default);
        SnapshotRecord? read = await store.GetAsync(snapshot.Key, default);
        WriteOutcome removed = await store.WriteAsync(new SnapshotWrite { Key = snapshot.Key, ExpectedVersion = 2 }, default);

        Assert.Equal((WriteOutcome.Written, WriteOutcome.Conflict, WriteOutcome.Conflict), (first, stale, staleRemove));
        Assert.Equal((ProvisioningState.Succeeded, 42L), (read!.ProvisioningState, read.DiskSizeBytes!.Value));
        Assert.Equal(WriteOutcome.Written, removed);
        Assert.Null(await store.GetAsync(snapshot.Key, default));
        Assert.Null(await store.GetByIdAsync(snapshot.SnapshotId, default));
    }

    [Fact]
    public async Task List_ByGroupOrSubscription_OrderedByGroupThenName()
    {
        string subscription = await GroupAsync("rg1");
        await GroupAsync("rg0");
        var store = new SqlSnapshotStore(Database);
        foreach (SnapshotRecord s in new[] { Snapshot(subscription, "b"), Snapshot(subscription, "a"), Snapshot(subscription, "z", group: "rg0") })
            await store.WriteAsync(new SnapshotWrite { Key = s.Key, Record = s }, default);

        IReadOnlyList<SnapshotRecord> all = await store.ListAsync(subscription, null, default);
        IReadOnlyList<SnapshotRecord> rg1 = await store.ListAsync(subscription, "RG1", default);

        Assert.Equal(["rg0/z", "rg1/a", "rg1/b"], all.Select(s => $"{s.ResourceGroup}/{s.Name}"));
        Assert.Equal(["a", "b"], rg1.Select(s => s.Name));
    }
}

public sealed class SqliteSnapshotStoreTests() : SnapshotStoreTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresSnapshotStoreTests(PostgresFixture postgres) : SnapshotStoreTests(postgres.Engine);
