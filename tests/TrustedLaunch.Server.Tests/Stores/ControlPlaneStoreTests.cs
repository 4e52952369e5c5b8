using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>The control plane's stores on either engine: compare-and-swap, atomic writes with their operations, the capacity guard.</summary>
public abstract class ControlPlaneStoreTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private async Task<(string Subscription, SqlVirtualMachineStore Vms)> GroupAsync(string group = "rg1")
    {
        SubscriptionRecord subscription = await new SqlSubscriptionStore(Database).EnsureDefaultAsync(T0, default);
        Assert.Equal(WriteOutcome.Written, await new SqlResourceGroupStore(Database).SaveAsync(new ResourceGroupRecord
        {
            SubscriptionId = subscription.SubscriptionId, Name = group, Location = "westus", Version = 1, State = ResourceGroupState.Succeeded, CreatedAt = T0,
        }, null, default));
        return (subscription.SubscriptionId, new SqlVirtualMachineStore(Database));
    }

    private static VirtualMachineRecord Vm(string subscription, string name, string? host = null, int vCpus = 2,
        DesiredPowerState power = DesiredPowerState.Running, string group = "rg1") => new()
    {
        SubscriptionId = subscription, ResourceGroup = group, Name = name, VmId = Guid.NewGuid(), Location = "westus", Version = 1,
        Model = new VirtualMachineModel { Properties = new VirtualMachineProperties { HardwareProfile = new HardwareProfile { VmSize = "Standard_D2s_v3" } } },
        ProvisioningState = ProvisioningState.Creating, DesiredPower = power, HostName = host, VCpus = vCpus, MemoryInMB = 1024,
        Generation = HyperVGeneration.V2, RestartGeneration = 0, TimeCreated = T0,
    };

    private static OperationRecord Operation(string subscription, OperationStatus status = OperationStatus.InProgress) => new()
    {
        OperationId = Guid.NewGuid().ToString(), SubscriptionId = subscription, Location = "westus", ResourceId = "/x", Kind = OperationKind.Create,
        Status = status, StartTime = T0,
    };

    [Fact]
    public async Task Subscription_EnsureDefault_OnceAndStable()
    {
        var store = new SqlSubscriptionStore(Database);

        SubscriptionRecord[] created = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => store.EnsureDefaultAsync(T0, default)));

        Assert.Single(created.Select(s => s.SubscriptionId).Distinct());
        Assert.Single(await store.ListAsync(default));
    }

    [Fact]
    public async Task Write_InsertTwiceAndStaleUpdate_Conflict()
    {
        (string subscription, SqlVirtualMachineStore vms) = await GroupAsync();
        VirtualMachineRecord vm = Vm(subscription, "vm1");

        Assert.Equal(WriteOutcome.Written, await vms.WriteAsync(new VirtualMachineWrite { Key = vm.Key, Record = vm }, default));
        Assert.Equal(WriteOutcome.Conflict, await vms.WriteAsync(new VirtualMachineWrite { Key = vm.Key, Record = vm with { VmId = Guid.NewGuid() } }, default));
        VirtualMachineRecord read = (await vms.GetAsync(new VirtualMachineKey(subscription.ToUpperInvariant(), "RG1", "VM1"), default))!;
        Assert.Equal(vm with { ChangeSequence = read.ChangeSequence }, read);

        VirtualMachineWrite update = new() { Key = vm.Key, Record = read with { Version = 2 }, ExpectedSequence = read.ChangeSequence };
        Assert.Equal(WriteOutcome.Written, await vms.WriteAsync(update, default));
        Assert.Equal(WriteOutcome.Conflict, await vms.WriteAsync(update, default));
        VirtualMachineRecord after = (await vms.GetAsync(vm.Key, default))!;
        Assert.Equal(2, after.Version);
        Assert.True(after.ChangeSequence > read.ChangeSequence);
    }

    [Fact]
    public async Task Write_Refused_LeavesNeitherRowNorOperations()
    {
        (string subscription, SqlVirtualMachineStore vms) = await GroupAsync();
        var operations = new SqlOperationStore(Database);
        VirtualMachineRecord orphan = Vm(subscription, "vm1", group: "nogroup");
        OperationRecord operation = Operation(subscription);

        WriteOutcome outcome = await vms.WriteAsync(new VirtualMachineWrite { Key = orphan.Key, Record = orphan, Operations = [operation] }, default);

        Assert.Equal(WriteOutcome.ResourceGroupMissing, outcome);
        Assert.Null(await vms.GetAsync(orphan.Key, default));
        Assert.Null(await operations.GetAsync(operation.OperationId, default));
    }

    [Fact]
    public async Task Write_CapacityGuard_FirstFitOnlyWhileThereIsRoom()
    {
        (string subscription, SqlVirtualMachineStore vms) = await GroupAsync();
        await new SqlHostStore(Database).SaveAsync(new HostRecord
        {
            Name = "h1", VCpus = 4, MemoryInMB = 8192, Accelerator = HostAccelerator.Kvm, RegisteredAt = T0, LastSeenAt = T0,
        }, default);
        var guard = new CapacityGuard("h1", 4, 8192);

        async Task<WriteOutcome> Place(VirtualMachineRecord vm) =>
            await vms.WriteAsync(new VirtualMachineWrite { Key = vm.Key, Record = vm, Capacity = guard }, default);

        Assert.Equal(WriteOutcome.Written, await Place(Vm(subscription, "a", "h1")));
        Assert.Equal(WriteOutcome.Written, await Place(Vm(subscription, "b", "H1", power: DesiredPowerState.Deallocated)));
        Assert.Equal(WriteOutcome.Written, await Place(Vm(subscription, "c", "h1")));
        Assert.Equal(WriteOutcome.CapacityExceeded, await Place(Vm(subscription, "d", "h1")));
        Assert.Null(await vms.GetAsync(new VirtualMachineKey(subscription, "rg1", "d"), default));
        Assert.Equal(["a", "b", "c"], (await vms.ListByHostAsync("H1", default)).Select(v => v.Name).Order());
    }

    [Fact]
    public async Task Remove_LastVmOfADeletingGroup_RemovesTheGroup()
    {
        (string subscription, SqlVirtualMachineStore vms) = await GroupAsync();
        var groups = new SqlResourceGroupStore(Database);
        VirtualMachineRecord vm = Vm(subscription, "vm1");
        await vms.WriteAsync(new VirtualMachineWrite { Key = vm.Key, Record = vm }, default);
        ResourceGroupRecord group = (await groups.GetAsync(subscription, "RG1", default))!;
        Assert.Equal(WriteOutcome.NotEmpty, await groups.RemoveAsync(subscription, "rg1", group.Version, default));
        await groups.SaveAsync(group with { State = ResourceGroupState.Deleting, Version = 2 }, group.Version, default);

        long sequence = (await vms.GetAsync(vm.Key, default))!.ChangeSequence;
        Assert.Equal(WriteOutcome.Written, await vms.WriteAsync(new VirtualMachineWrite { Key = vm.Key, ExpectedSequence = sequence }, default));

        Assert.Null(await groups.GetAsync(subscription, "rg1", default));
    }

    [Fact]
    public async Task Operation_Terminal_NeverChangesAgain()
    {
        var operations = new SqlOperationStore(Database);
        OperationRecord operation = Operation(Guid.NewGuid().ToString());
        await operations.CompleteAsync(operation, default);

        Assert.True(await operations.CompleteAsync(operation.Complete(OperationStatus.Succeeded, T0.AddSeconds(5)), default));
        Assert.False(await operations.CompleteAsync(operation.Complete(OperationStatus.Canceled, T0.AddSeconds(9)), default));
        Assert.Equal(OperationStatus.Succeeded, (await operations.GetAsync(operation.OperationId, default))!.Status);
    }

    [Fact]
    public async Task List_Pages_ContinueWhereTheLastEnded()
    {
        (string subscription, SqlVirtualMachineStore vms) = await GroupAsync();
        await GroupAsync("rg0");
        foreach ((string group, string name) in new[] { ("rg1", "b"), ("rg1", "a"), ("rg0", "z"), ("rg1", "c") })
        {
            VirtualMachineRecord vm = Vm(subscription, name, group: group);
            await vms.WriteAsync(new VirtualMachineWrite { Key = vm.Key, Record = vm }, default);
        }

        Page<VirtualMachineRecord> first = await vms.ListAsync(subscription, null, null, 3, default);
        Page<VirtualMachineRecord> second = await vms.ListAsync(subscription, null, first.ContinuationToken, 3, default);
        Page<VirtualMachineRecord> group1 = await vms.ListAsync(subscription, "RG1", null, 10, default);

        Assert.Equal(["rg0/z", "rg1/a", "rg1/b"], first.Items.Select(v => $"{v.ResourceGroup}/{v.Name}"));
        Assert.Equal(["rg1/c"], second.Items.Select(v => $"{v.ResourceGroup}/{v.Name}"));
        Assert.Null(second.ContinuationToken);
        Assert.Equal(["a", "b", "c"], group1.Items.Select(v => v.Name));
    }
}

public sealed class SqliteControlPlaneStoreTests() : ControlPlaneStoreTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresControlPlaneStoreTests(PostgresFixture postgres) : ControlPlaneStoreTests(postgres.Engine);
