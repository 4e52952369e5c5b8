using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;

namespace TrustedLaunch.Server.Tests.Posture;

/// <summary>Edits of a stored VM record that posture must notice, written as the control plane writes them (a new version, the change sequence checked).</summary>
internal static class StoredVmEdits
{
    public static async Task SetSecureBootAsync(IVirtualMachineStore machines, Guid vmId, bool enabled)
    {
        VirtualMachineRecord vm = (await machines.GetByVmIdAsync(vmId, default))!;
        SecurityProfile profile = vm.Model.Properties.SecurityProfile!;
        VirtualMachineRecord next = vm with
        {
            Version = vm.Version + 1,
            Model = vm.Model with
            {
                Properties = vm.Model.Properties with { SecurityProfile = profile with { UefiSettings = profile.UefiSettings! with { SecureBootEnabled = enabled } } },
            },
        };
        Assert.Equal(WriteOutcome.Written,
            await machines.WriteAsync(new VirtualMachineWrite { Key = vm.Key, Record = next, ExpectedSequence = vm.ChangeSequence }, default));
    }

    /// <summary>Running Trusted Launch VMs (Secure Boot and vTPM on) in rg1 of the default subscription, written as the control plane writes them.</summary>
    public static async Task<VirtualMachineRecord[]> AddRunningVmsAsync(StoreDatabase database, DateTimeOffset at, int count)
    {
        SubscriptionRecord subscription = await new SqlSubscriptionStore(database).EnsureDefaultAsync(at, default);
        var groups = new SqlResourceGroupStore(database);
        if (await groups.GetAsync(subscription.SubscriptionId, "rg1", default) is null)
        {
            Assert.Equal(WriteOutcome.Written, await groups.SaveAsync(new ResourceGroupRecord
            {
                SubscriptionId = subscription.SubscriptionId, Name = "rg1", Location = "westus", Version = 1, State = ResourceGroupState.Succeeded, CreatedAt = at,
            }, null, default));
        }

        var machines = new SqlVirtualMachineStore(database);
        var added = new VirtualMachineRecord[count];
        for (int i = 0; i < count; i++)
        {
            added[i] = new VirtualMachineRecord
            {
                SubscriptionId = subscription.SubscriptionId, ResourceGroup = "rg1", Name = $"vm{i}", VmId = Guid.NewGuid(), Location = "westus", Version = 1,
                Model = new VirtualMachineModel
                {
                    Properties = new VirtualMachineProperties
                    {
                        HardwareProfile = new HardwareProfile { VmSize = "Standard_D2s_v3" },
                        SecurityProfile = new SecurityProfile { SecurityType = "TrustedLaunch", UefiSettings = new UefiSettings { SecureBootEnabled = true, VTpmEnabled = true } },
                    },
                },
                ProvisioningState = ProvisioningState.Succeeded, DesiredPower = DesiredPowerState.Running, ActualPower = PowerState.Running, VCpus = 2,
                MemoryInMB = 1024, Generation = HyperVGeneration.V2, RestartGeneration = 0, TimeCreated = at,
            };
            Assert.Equal(WriteOutcome.Written, await machines.WriteAsync(new VirtualMachineWrite { Key = added[i].Key, Record = added[i] }, default));
        }

        return added;
    }
}
