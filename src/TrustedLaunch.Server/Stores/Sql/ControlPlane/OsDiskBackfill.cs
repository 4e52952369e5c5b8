using System.Data.Common;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Disks;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Stores.Sql.ControlPlane;

/// <summary>
/// The step of schema 16 (<see cref="StoreSchema.Steps"/>): every VM gets the OS disk row its creation writes since disks are
/// resources (<see cref="OsDisks.ForNewVm"/>; VMs made before schema 15 had none), and its model names that disk in
/// <c>storageProfile.osDisk.managedDisk.id</c> (a VM made from a snapshot named the snapshot, which becomes its disk's
/// <c>creationData.sourceResourceId</c>). It reads only columns of schema 4, so migrations appended later do not break it.
/// </summary>
internal static class OsDiskBackfill
{
    public static async Task RunAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        var found = new List<(VirtualMachineRecord Vm, DiskRecord? Disk)>();
        await using (DbCommand read = SqlCommands.Create(connection, transaction, """
            SELECT v.subscription_id, v.resource_group, v.name, v.vm_id, v.location, v.version, v.model_json, v.provisioning_state,
                v.desired_power, v.host_name, v.vcpus, v.memory_mb, v.generation, v.restart_generation, v.time_created, d.record_json
            FROM virtual_machines v LEFT JOIN disks d ON d.managed_by_vm_id = v.vm_id
            ORDER BY v.time_created, v.vm_id
            """))
        await using (DbDataReader reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                found.Add((Read(reader), SqlCommands.FromJson(reader, 15, ControlPlaneJson.Default.DiskRecord)));
        }

        foreach ((VirtualMachineRecord vm, DiskRecord? existing) in found)
        {
            StorageProfile? storage = vm.Model.Properties.StorageProfile;
            if (storage?.OsDisk?.Name is null || storage.ImageReference is null)
                continue; // no OS disk to describe (never true of a VM the planner accepted)
            DiskRecord disk = existing ?? OsDisks.ForNewVm(vm, SourceSnapshot(storage.OsDisk));
            if (existing is null
                && await SqlDiskStore.WriteRowAsync(connection, transaction, new DiskWrite { Key = disk.Key, Record = disk }, admission: false, cancellationToken)
                    != WriteOutcome.Written)
                continue; // the name or uniqueId is another disk's: the VM keeps no row rather than a wrong one
            if (storage.OsDisk.ManagedDisk?.Id == disk.ResourceId)
                continue;
            await using DbCommand update = SqlCommands.Create(connection, transaction, "UPDATE virtual_machines SET model_json = @model WHERE vm_id = @id")
                .With("@model", SqlCommands.ToJson(OsDisks.WithManagedDiskId(vm.Model, disk.ResourceId), ControlPlaneJson.Default.VirtualMachineModel))
                .With("@id", vm.VmId.ToString("D"));
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    // A VM attached from a snapshot (createOption Attach, managedDisk.id the snapshot): its disk is a copy of it.
    private static string? SourceSnapshot(OSDisk osDisk) =>
        string.Equals(osDisk.CreateOption, "Attach", StringComparison.OrdinalIgnoreCase) && ResourceIds.TryParseCompute(osDisk.ManagedDisk?.Id, "snapshots", out _)
            ? osDisk.ManagedDisk!.Id
            : null;

    private static VirtualMachineRecord Read(DbDataReader reader) => new()
    {
        SubscriptionId = reader.GetString(0),
        ResourceGroup = reader.GetString(1),
        Name = reader.GetString(2),
        VmId = Guid.Parse(reader.GetString(3)),
        Location = reader.GetString(4),
        Version = reader.GetInt64(5),
        Model = SqlCommands.FromJson(reader, 6, ControlPlaneJson.Default.VirtualMachineModel) ?? throw new StoreException("A virtual machine row has no model."),
        ProvisioningState = SqlCommands.ParseEnum<ProvisioningState>(reader.GetString(7)),
        DesiredPower = SqlCommands.ParseEnum<DesiredPowerState>(reader.GetString(8)),
        HostName = SqlCommands.NullableString(reader, 9),
        VCpus = reader.GetInt32(10),
        MemoryInMB = reader.GetInt32(11),
        Generation = SqlCommands.ParseEnum<HyperVGeneration>(reader.GetString(12)),
        RestartGeneration = reader.GetInt64(13),
        TimeCreated = StoreDatabase.FromUnixMilliseconds(reader.GetInt64(14)),
    };
}
