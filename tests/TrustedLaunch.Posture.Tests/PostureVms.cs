using TrustedLaunch.Posture.Inputs;

namespace TrustedLaunch.Posture.Tests;

/// <summary>VMs as posture sees them, for the rules' tests: a running Trusted Launch VM by default, varied with <c>with</c>.</summary>
internal static class PostureVms
{
    /// <summary>The instant the tests' VMs booted.</summary>
    public static DateTimeOffset Booted { get; } = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static PostureVm TrustedLaunch() => new()
    {
        ResourceId = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1",
        SubscriptionId = "00000000-0000-0000-0000-000000000001",
        ResourceGroup = "rg1",
        Name = "vm1",
        VmId = new Guid("11111111-2222-3333-4444-555555555555"),
        Location = "westus",
        TrustedLaunch = true,
        SecureBootEnabled = true,
        VTpmEnabled = true,
        Generation = VmGeneration.V2,
        VmSize = "Standard_D2s_v3",
        SizeSupportsTrustedLaunch = true,
        Running = true,
        RunningSince = Booted,
    };

    public static AttestationObservation Pass(DateTimeOffset at, long id = 1) => new() { ResultId = id, At = at, Passed = true };

    public static AttestationObservation Failure(string reason, DateTimeOffset at, long id = 1) =>
        new() { ResultId = id, At = at, Passed = false, Reason = reason, Component = "test component", Message = "test message" };
}
