using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Disks;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>
/// Migration 16 on either engine: a database at schema 14 (before disks were resources) with VMs in it, opened by this service,
/// has a disk row for every VM, shaped as the create path writes it, and each VM's model names its disk.
/// </summary>
public abstract class OsDiskBackfillTests(StoreEngine engine) : StoreTests(engine)
{
    private const string Subscription = "7d3c1f1e-3c55-4f55-9a55-0d5e2f7b9a10";
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);

    private static VirtualMachineRecord Vm(string name, OSDisk osDisk, string? host = "host1") => new()
    {
        SubscriptionId = Subscription, ResourceGroup = "rg1", Name = name, VmId = Guid.NewGuid(), Location = "westus", Version = 3,
        Model = new VirtualMachineModel
        {
            Properties = new VirtualMachineProperties
            {
                HardwareProfile = new HardwareProfile { VmSize = "Standard_D2s_v3" },
                StorageProfile = new StorageProfile
                {
                    ImageReference = new ImageReference { Publisher = "Debian", Offer = "debian-12", Sku = "12-gen2", Version = "latest", ExactVersion = "1.1.0" },
                    OsDisk = osDisk,
                },
                SecurityProfile = new SecurityProfile { SecurityType = "TrustedLaunch" },
            },
        },
        ProvisioningState = ProvisioningState.Succeeded, DesiredPower = DesiredPowerState.Running, HostName = host, VCpus = 2, MemoryInMB = 1024,
        Generation = HyperVGeneration.V2, RestartGeneration = 0, TimeCreated = T0,
    };

    /// <summary>A database as schema 14 left it: the migrations up to 14 only, and the VMs written as that version wrote them (no disk).</summary>
    private static async Task WriteVersion14Async(string database, IEnumerable<VirtualMachineRecord> vms)
    {
        await using DbConnection connection = RawDatabase.Connect(database);
        await connection.OpenAsync();
        await RawDatabase.MigrateAsync(connection, database, 14);

        long t0 = T0.ToUnixTimeMilliseconds();
        await RawDatabase.ExecuteAsync(connection, "INSERT INTO subscriptions VALUES (@s, 'Default', 1, @t)", ("@s", Subscription), ("@t", t0));
        await RawDatabase.ExecuteAsync(connection, "INSERT INTO resource_groups VALUES (@s, 'RG1', 'rg1', 'westus', NULL, 1, 'Succeeded', @t)", ("@s", Subscription), ("@t", t0));
        await RawDatabase.ExecuteAsync(connection, "INSERT INTO hosts VALUES ('HOST1', 'host1', 4, 8192, 'Kvm', NULL, @t, @t)", ("@t", t0));
        long sequence = 0;
        foreach (VirtualMachineRecord vm in vms)
        {
            await RawDatabase.ExecuteAsync(connection, """
                INSERT INTO virtual_machines (subscription_id, group_key, name_key, resource_group, name, vm_id, location, version, model_json,
                    provisioning_state, desired_power, actual_power, host_key, host_name, vcpus, memory_mb, generation, pending_operation_id,
                    restart_generation, time_created, report_json, change_seq)
                VALUES (@s, 'RG1', @n, 'rg1', @name, @id, 'westus', @version, @model, 'Succeeded', 'Running', 'Running', @hk, @host, 2, 1024, 'V2',
                    NULL, 0, @t, NULL, @seq)
                """,
                ("@s", Subscription), ("@n", vm.Name.ToUpperInvariant()), ("@name", vm.Name), ("@id", vm.VmId.ToString("D")), ("@version", vm.Version),
                ("@model", JsonSerialize(vm.Model)), ("@hk", vm.HostName?.ToUpperInvariant()), ("@host", vm.HostName), ("@t", t0), ("@seq", ++sequence));
        }

        await RawDatabase.ExecuteAsync(connection, "UPDATE change_sequence SET value = @seq WHERE id = 1", ("@seq", sequence));
    }

    private static string JsonSerialize(VirtualMachineModel model) => System.Text.Json.JsonSerializer.Serialize(model, ControlPlaneJson.Default.VirtualMachineModel);

    [Fact]
    public async Task Version14DatabaseWithVms_Upgraded_EveryVmHasItsOsDiskRow_AndItsModelNamesIt()
    {
        string snapshotId = $"/subscriptions/{Subscription}/resourceGroups/rg1/providers/Microsoft.Compute/snapshots/snap1";
        VirtualMachineRecord fromImage = Vm("old1", new OSDisk { Name = "old1_OsDisk_1_x", CreateOption = "FromImage", DeleteOption = "Detach" });
        VirtualMachineRecord fromSnapshot = Vm("copy1", new OSDisk
        {
            Name = "copy1_OsDisk_1_y", CreateOption = "Attach", DeleteOption = "Delete", ManagedDisk = new ManagedDiskParameters { Id = snapshotId },
        });
        VirtualMachineRecord unplaced = Vm("wait1", new OSDisk { Name = "wait1_OsDisk_1_z", CreateOption = "FromImage", DeleteOption = "Detach" }, host: null);
        string old = Engine.NewDatabase();
        try
        {
            await WriteVersion14Async(old, [fromImage, fromSnapshot, unplaced]);
            SqliteConnection.ClearAllPools();
            using StoreDatabase upgraded = StoreDatabase.Open(old);
            var disks = new SqlDiskStore(upgraded);
            var vms = new SqlVirtualMachineStore(upgraded);

            Assert.Equal(StoreDatabase.SchemaVersion, await upgraded.ReadSchemaVersionAsync(default));
            IReadOnlyList<DiskRecord> listed = await disks.ListAsync(Subscription, "rg1", default);
            Assert.Equal(["COPY1_OSDISK_1_Y", "OLD1_OSDISK_1_X", "WAIT1_OSDISK_1_Z"], listed.Select(d => d.Name.ToUpperInvariant()));
            foreach (VirtualMachineRecord vm in new[] { fromImage, fromSnapshot, unplaced })
            {
                DiskRecord disk = (await disks.GetByManagerAsync(vm.VmId, default))!;
                VirtualMachineRecord stored = (await vms.GetAsync(vm.Key, default))!;
                Assert.Equal(OsDisks.ForNewVm(stored, disk.SourceResourceId), disk); // the create path's shape, field for field
                Assert.Equal((DiskState.Attached, vm.ResourceId, vm.VmId, 1L), (disk.State, disk.ManagedBy, disk.DiskId, disk.Version));
                Assert.Equal(disk.ResourceId, stored.Model.Properties.StorageProfile!.OsDisk!.ManagedDisk!.Id);
                Assert.Equal(vm.Version, stored.Version); // the VM itself is unchanged (its ETag too)
            }

            Assert.Equal(("FromImage", (string?)null), (listed[1].CreateOption, listed[1].SourceResourceId));
            Assert.Equal(("Copy", snapshotId), (listed[0].CreateOption, listed[0].SourceResourceId));

            // No lazy path left: the Detach VM's removal leaves its (backfilled) disk Unattached on its host.
            VirtualMachineRecord current = (await vms.GetAsync(fromImage.Key, default))!;
            Assert.Equal(WriteOutcome.Written, await vms.WriteAsync(new VirtualMachineWrite
            {
                Key = current.Key, Record = null, ExpectedSequence = current.ChangeSequence,
                OsDisk = OsDisks.OnRemoval(current, await disks.GetByManagerAsync(current.VmId, default)),
            }, default));
            DiskRecord detached = (await disks.GetByIdAsync(fromImage.VmId, default))!;
            Assert.Equal((DiskState.Unattached, "host1"), (detached.State, detached.HostName));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Engine.Release(old);
        }
    }
}

public sealed class SqliteOsDiskBackfillTests() : OsDiskBackfillTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresOsDiskBackfillTests(PostgresFixture postgres) : OsDiskBackfillTests(postgres.Engine);
