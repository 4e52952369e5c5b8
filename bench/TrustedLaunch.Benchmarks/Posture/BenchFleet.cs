using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Benchmarks.Posture;

/// <summary>
/// The service (Kestrel on loopback, SQLite WAL file in a temp folder) with a fleet of running Trusted Launch VMs
/// written straight to the VM store, as hosts that converged them leave them, one passed attestation each.
/// </summary>
internal static class BenchFleet
{
    public const string Group = "bench";

    public static async Task<(WebApplication App, string SubscriptionId, VirtualMachineRecord[] Vms)> StartAsync(string directory, int vms, bool backgroundWork)
    {
        WebApplication app = AttestationServiceHost.Build(new AttestationServiceOptions
        {
            DataDirectory = directory,
            Listen = "http://127.0.0.1:0",
            Posture = new PostureOptions { RunBackgroundWork = backgroundWork },
        }, configureLogging: logging => logging.SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync();
        IServiceProvider services = app.Services;
        SubscriptionRecord subscription = await services.GetRequiredService<ISubscriptionStore>().EnsureDefaultAsync(DateTimeOffset.UtcNow, default);
        await services.GetRequiredService<IResourceGroupStore>().SaveAsync(new ResourceGroupRecord
        {
            SubscriptionId = subscription.SubscriptionId, Name = Group, Location = "westus", Version = 1,
            State = ResourceGroupState.Succeeded, CreatedAt = DateTimeOffset.UtcNow,
        }, expectedVersion: null, default);
        IVirtualMachineStore machines = services.GetRequiredService<IVirtualMachineStore>();
        IAttestationResultStore results = services.GetRequiredService<IAttestationResultStore>();
        var model = new VirtualMachineModel
        {
            Properties = new VirtualMachineProperties
            {
                HardwareProfile = new HardwareProfile { VmSize = "Standard_D2s_v3" },
                SecurityProfile = new SecurityProfile { SecurityType = "TrustedLaunch", UefiSettings = new UefiSettings { SecureBootEnabled = true, VTpmEnabled = true } },
                StorageProfile = new StorageProfile { ImageReference = new ImageReference { Publisher = "Debian", Offer = "debian-12", Sku = "12-gen2", Version = "latest", ExactVersion = "1.1.0" } },
            },
        };
        var fleet = new VirtualMachineRecord[vms];
        for (int i = 0; i < vms; i++)
        {
            fleet[i] = new VirtualMachineRecord
            {
                SubscriptionId = subscription.SubscriptionId, ResourceGroup = Group, Name = $"vm{i:D5}", VmId = Guid.NewGuid(), Location = "westus", Version = 1,
                Model = model, ProvisioningState = ProvisioningState.Succeeded, DesiredPower = DesiredPowerState.Running, ActualPower = PowerState.Running,
                VCpus = 2, MemoryInMB = 8192, Generation = HyperVGeneration.V2, RestartGeneration = 0, TimeCreated = DateTimeOffset.UtcNow,
            };
            await machines.WriteAsync(new VirtualMachineWrite { Key = fleet[i].Key, Record = fleet[i] }, default);
            await results.AddAsync(new AttestationRecord { VmId = fleet[i].VmId, At = DateTimeOffset.UtcNow, Verdict = AttestationVerdict.Pass, ClaimsJson = "{}" }, default);
        }

        return (app, subscription.SubscriptionId, fleet);
    }
}
