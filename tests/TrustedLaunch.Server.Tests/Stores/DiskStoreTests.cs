using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Disks;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>
/// The disk store on either engine: insert under the group's admission, compare-and-swap, look-ups (key, uniqueId, the VM it is
/// attached to, the host of an Unattached one), and the OS disk written inside its VM's transaction (made, detached, removed with it).
/// </summary>
public abstract class DiskStoreTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);

    private async Task<string> GroupAsync(string group = "rg1", ResourceGroupState state = ResourceGroupState.Succeeded)
    {
        SubscriptionRecord subscription = await new SqlSubscriptionStore(Database).EnsureDefaultAsync(T0, default);
        Assert.Equal(WriteOutcome.Written, await new SqlResourceGroupStore(Database).SaveAsync(new ResourceGroupRecord
        {
            SubscriptionId = subscription.SubscriptionId, Name = group, Location = "westus", Version = 1, State = state, CreatedAt = T0,
        }, null, default));
        await new SqlHostStore(Database).SaveAsync(new HostRecord
        {
            Name = "host1", VCpus = 4, MemoryInMB = 8192, Accelerator = HostAccelerator.Kvm, RegisteredAt = T0, LastSeenAt = T0,
        }, default);
        return subscription.SubscriptionId;
    }

    private static VirtualMachineRecord Vm(string subscription, string name, string deleteOption = "Detach", string? host = "host1") => new()
    {
        SubscriptionId = subscription, ResourceGroup = "rg1", Name = name, VmId = Guid.NewGuid(), Location = "westus", Version = 1,
        Model = new VirtualMachineModel
        {
            Properties = new VirtualMachineProperties
            {
                HardwareProfile = new HardwareProfile { VmSize = "Standard_D2s_v3" },
                StorageProfile = new StorageProfile
                {
                    ImageReference = new ImageReference { Publisher = "Debian", Offer = "debian-12", Sku = "12-gen2", Version = "latest", ExactVersion = "1.1.0" },
                    OsDisk = new OSDisk { Name = $"{name}_OsDisk_1", CreateOption = "FromImage", DeleteOption = deleteOption },
                },
                SecurityProfile = new SecurityProfile { SecurityType = "TrustedLaunch" },
            },
        },
        ProvisioningState = ProvisioningState.Succeeded, DesiredPower = DesiredPowerState.Running, HostName = host, VCpus = 2, MemoryInMB = 1024,
        Generation = HyperVGeneration.V2, RestartGeneration = 0, TimeCreated = T0,
    };

    private static DiskRecord Unattached(string subscription, string name, string host = "host1", string group = "rg1") =>
        OsDisks.ForNewVm(Vm(subscription, "x"), null) with
        {
            ResourceGroup = group, Name = name, DiskId = Guid.NewGuid(), State = DiskState.Unattached, ManagedBy = null, ManagedByVmId = null, HostName = host,
        };

    [Fact]
    public async Task ARestoredDisk_KeepsItsBackupSource_AndCreateOption_ThroughTheStore()
    {
        string subscription = await GroupAsync();
        var store = new SqlDiskStore(Database);
        var source = new DiskBackupSource(Guid.NewGuid(), Guid.NewGuid(), T0.AddDays(-2));
        DiskRecord restored = Unattached(subscription, "restored1") with { CreateOption = RestoredDiskService.CreateOption, RestoredFrom = source, LastVmId = source.SourceVmId };

        Assert.Equal(WriteOutcome.Written, await store.WriteAsync(new DiskWrite { Key = restored.Key, Record = restored }, default));
        DiskRecord? read = await store.GetByIdAsync(restored.DiskId, default);

        Assert.NotNull(read);
        Assert.Equal("Restore", read.CreateOption);
        Assert.Equal(source, read.RestoredFrom);
        Assert.Equal(source.SourceVmId, read.LastVmId);
        Assert.Contains(await store.ListByHostAsync("host1", default), d => d.DiskId == restored.DiskId && d.RestoredFrom == source);
    }

    [Fact]
    public async Task Insert_ThenGetByKeyIdAndHost_RoundTrips_AndAdmissionRefusesMissingOrDeletingGroups()
    {
        string subscription = await GroupAsync();
        await GroupAsync("going", ResourceGroupState.Deleting);
        var store = new SqlDiskStore(Database);
        DiskRecord disk = Unattached(subscription, "Disk1");

        WriteOutcome written = await store.WriteAsync(new DiskWrite { Key = disk.Key, Record = disk }, default);
        DiskRecord? byKey = await store.GetAsync(new DiskKey(subscription.ToUpperInvariant(), "RG1", "disk1"), default);
        DiskRecord? byId = await new SqlDiskStore(OpenReplica()).GetByIdAsync(disk.DiskId, default);

        Assert.Equal(WriteOutcome.Written, written);
        Assert.Equal((disk.DiskId, DiskState.Unattached, "1.1.0"), (byKey!.DiskId, byKey.State, byKey.ImageReference.ExactVersion));
        Assert.Equal("host1", byId!.HostName);
        Assert.Single(await store.ListByHostAsync("HOST1", default));
        Assert.Empty(await store.ListByHostAsync("host2", default));
        Assert.Equal(WriteOutcome.Conflict, await store.WriteAsync(new DiskWrite { Key = disk.Key, Record = disk with { DiskId = Guid.NewGuid() } }, default));
        DiskRecord missing = Unattached(subscription, "d", group: "nosuch"), deleting = Unattached(subscription, "d", group: "going");
        Assert.Equal(WriteOutcome.ResourceGroupMissing, await store.WriteAsync(new DiskWrite { Key = missing.Key, Record = missing }, default));
        Assert.Equal(WriteOutcome.ResourceGroupDeleting, await store.WriteAsync(new DiskWrite { Key = deleting.Key, Record = deleting }, default));
    }

    [Fact]
    public async Task Update_AndRemove_CompareAndSwapOnTheVersion()
    {
        string subscription = await GroupAsync();
        var store = new SqlDiskStore(Database);
        DiskRecord disk = Unattached(subscription, "disk1");
        await store.WriteAsync(new DiskWrite { Key = disk.Key, Record = disk }, default);

        WriteOutcome first = await store.WriteAsync(new DiskWrite
        {
            Key = disk.Key, Record = disk with { ProvisioningState = ProvisioningState.Deleting, Version = 2 }, ExpectedVersion = 1,
        }, default);
        WriteOutcome stale = await store.WriteAsync(new DiskWrite { Key = disk.Key, Record = disk with { Version = 2 }, ExpectedVersion = 1 }, default);
        WriteOutcome staleRemove = await store.WriteAsync(new DiskWrite { Key = disk.Key, ExpectedVersion = 1 }, default);
        WriteOutcome removed = await store.WriteAsync(new DiskWrite { Key = disk.Key, ExpectedVersion = 2 }, default);

        Assert.Equal((WriteOutcome.Written, WriteOutcome.Conflict, WriteOutcome.Conflict, WriteOutcome.Written), (first, stale, staleRemove, removed));
        Assert.Null(await store.GetByIdAsync(disk.DiskId, default));
    }

    [Fact]
    public async Task OsDisk_WrittenWithItsVm_AttachedThenDetachedOnTheVmsHost()
    {
        string subscription = await GroupAsync();
        var vms = new SqlVirtualMachineStore(Database);
        var disks = new SqlDiskStore(Database);
        VirtualMachineRecord vm = Vm(subscription, "vm1");
        DiskRecord osDisk = OsDisks.ForNewVm(vm, null);

        Assert.Equal(WriteOutcome.Written, await vms.WriteAsync(new VirtualMachineWrite { Key = vm.Key, Record = vm, OsDisk = new DiskWrite { Key = osDisk.Key, Record = osDisk } }, default));
        DiskRecord attached = (await disks.GetByManagerAsync(vm.VmId, default))!;
        Assert.Equal((DiskState.Attached, vm.ResourceId, vm.VmId), (attached.State, attached.ManagedBy, attached.DiskId));
        Assert.Empty(await disks.ListByHostAsync("host1", default)); // an attached disk is its VM's, not kept by the host on its own

        VirtualMachineRecord stored = (await vms.GetAsync(vm.Key, default))!;
        Assert.Equal(WriteOutcome.Written, await vms.WriteAsync(new VirtualMachineWrite
        {
            Key = vm.Key, Record = null, ExpectedSequence = stored.ChangeSequence, OsDisk = OsDisks.OnRemoval(stored, attached),
        }, default));

        Assert.Null(await vms.GetAsync(vm.Key, default));
        DiskRecord detached = (await disks.GetAsync(osDisk.Key, default))!;
        Assert.Equal((DiskState.Unattached, (string?)null, "host1", 2L), (detached.State, detached.ManagedBy, detached.HostName, detached.Version));
        Assert.Null(await disks.GetByManagerAsync(vm.VmId, default));
        Assert.Single(await disks.ListByHostAsync("host1", default));
    }

    [Fact]
    public async Task OsDisk_DeleteOptionDelete_RemovedWithItsVm_AndALostDiskWriteUndoesTheVmWrite()
    {
        string subscription = await GroupAsync();
        var vms = new SqlVirtualMachineStore(Database);
        var disks = new SqlDiskStore(Database);
        VirtualMachineRecord vm = Vm(subscription, "vm1", deleteOption: "Delete");
        DiskRecord osDisk = OsDisks.ForNewVm(vm, null);
        await vms.WriteAsync(new VirtualMachineWrite { Key = vm.Key, Record = vm, OsDisk = new DiskWrite { Key = osDisk.Key, Record = osDisk } }, default);
        VirtualMachineRecord stored = (await vms.GetAsync(vm.Key, default))!;

        // A disk write that does not apply (a stale version) fails the VM's write too: nothing half-done.
        WriteOutcome stale = await vms.WriteAsync(new VirtualMachineWrite
        {
            Key = vm.Key, Record = null, ExpectedSequence = stored.ChangeSequence, OsDisk = new DiskWrite { Key = osDisk.Key, ExpectedVersion = 7 },
        }, default);
        Assert.Equal(WriteOutcome.Conflict, stale);
        Assert.NotNull(await vms.GetAsync(vm.Key, default));

        Assert.Equal(WriteOutcome.Written, await vms.WriteAsync(new VirtualMachineWrite
        {
            Key = vm.Key, Record = null, ExpectedSequence = stored.ChangeSequence, OsDisk = OsDisks.OnRemoval(stored, osDisk),
        }, default));
        Assert.Null(await disks.GetAsync(osDisk.Key, default));
    }

    [Fact]
    public async Task OsDisk_DetachedByItsHost_WhileItsGroupIsBeingDeleted_KeepsItsRow_DeletingThroughThatHost_ThenTheGroupGoes()
    {
        // The VM was deleted on its own (Detach fixed in its Deleting state, so its host detached the files); its group's deletion
        // began before the host reported. The row follows what the host did: Unattached on host1, and Deleting so that host removes it.
        string subscription = await GroupAsync();
        var vms = new SqlVirtualMachineStore(Database);
        VirtualMachineRecord vm = Vm(subscription, "vm1");
        DiskRecord osDisk = OsDisks.ForNewVm(vm, null);
        await vms.WriteAsync(new VirtualMachineWrite { Key = vm.Key, Record = vm, OsDisk = new DiskWrite { Key = osDisk.Key, Record = osDisk } }, default);
        VirtualMachineRecord stored = (await vms.GetAsync(vm.Key, default))!;
        ResourceGroupRecord group = (await new SqlResourceGroupStore(Database).GetAsync(subscription, "rg1", default))!;
        await new SqlResourceGroupStore(Database).SaveAsync(group with { State = ResourceGroupState.Deleting, Version = 2 }, 1, default);

        WriteOutcome removed = await vms.WriteAsync(new VirtualMachineWrite
        {
            Key = vm.Key, Record = null, ExpectedSequence = stored.ChangeSequence, OsDisk = OsDisks.OnRemoval(stored, osDisk, groupDeleting: true),
        }, default);

        Assert.Equal(WriteOutcome.Written, removed);
        DiskRecord disk = (await new SqlDiskStore(Database).GetByIdAsync(vm.VmId, default))!;
        Assert.Equal((DiskState.Unattached, "host1", ProvisioningState.Deleting), (disk.State, disk.HostName, disk.ProvisioningState));
        Assert.Equal(disk.DiskId, Assert.Single(await new SqlDiskStore(Database).ListByHostAsync("host1", default)).DiskId);
        // The group waits for its disk as for its VMs.
        Assert.Equal(WriteOutcome.NotEmpty, await new SqlResourceGroupStore(Database).RemoveAsync(subscription, "rg1", 2, default));
        Assert.Equal(WriteOutcome.Written, await new SqlDiskStore(Database).WriteAsync(new DiskWrite { Key = disk.Key, ExpectedVersion = disk.Version }, default));
        Assert.Null(await new SqlResourceGroupStore(Database).GetAsync(subscription, "rg1", default)); // the last member took the group with it
    }

    [Fact]
    public async Task OsDisk_OfAVmItsGroupsDeletionDeletes_GoesWithIt_WhateverItsOwnDeleteOption()
    {
        string subscription = await GroupAsync();
        var vms = new SqlVirtualMachineStore(Database);
        VirtualMachineRecord vm = Vm(subscription, "vm1"); // Detach
        DiskRecord osDisk = OsDisks.ForNewVm(vm, null);
        await vms.WriteAsync(new VirtualMachineWrite { Key = vm.Key, Record = vm, OsDisk = new DiskWrite { Key = osDisk.Key, Record = osDisk } }, default);
        VirtualMachineRecord stored = (await vms.GetAsync(vm.Key, default))!;
        VirtualMachineRecord deleting = stored with { ProvisioningState = ProvisioningState.Deleting, Model = OsDisks.DeletedWithGroup(stored.Model) };

        Assert.Equal("Delete", deleting.Model.Properties.StorageProfile!.OsDisk!.DeleteOption);
        Assert.Null(OsDisks.OnRemoval(stored, null)); // no row, nothing to write (every VM has one since schema 16)
        Assert.Equal(WriteOutcome.Written, await vms.WriteAsync(new VirtualMachineWrite
        {
            Key = vm.Key, Record = null, ExpectedSequence = stored.ChangeSequence, OsDisk = OsDisks.OnRemoval(deleting, osDisk, groupDeleting: true),
        }, default));
        Assert.Null(await new SqlDiskStore(Database).GetByIdAsync(vm.VmId, default));
    }
}

public sealed class SqliteDiskStoreTests() : DiskStoreTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresDiskStoreTests(PostgresFixture postgres) : DiskStoreTests(postgres.Engine);
