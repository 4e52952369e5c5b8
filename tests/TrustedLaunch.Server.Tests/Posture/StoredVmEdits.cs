using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

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
}
