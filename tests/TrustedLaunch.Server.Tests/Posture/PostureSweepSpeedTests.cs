using System.Diagnostics;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Testing;
using Xunit.Abstractions;

namespace TrustedLaunch.Server.Tests.Posture;

/// <summary>
/// docs/benchmarks.md: every assessment of 10,000 store-backed VMs (SQLite, one attestation result each) evaluated by a
/// full sweep; the first sweep writes 40,000 assessments, a steady one compares and writes nothing. Integration: it
/// writes 10,000 rows and takes a while.
/// </summary>
[IntegrationTest]
public sealed class PostureSweepSpeedTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Vms = 10_000;
    private readonly PostureTestService _arm = new(caDirectory: null);

    public Task InitializeAsync() => _arm.InitializeAsync();

    public Task DisposeAsync() => _arm.DisposeAsync();

    [Fact]
    public async Task FullSweep_10000Vms_UnderOneSecond()
    {
        string group = await _arm.CreateGroupAsync();
        IVirtualMachineStore store = _arm.Service.Service<IVirtualMachineStore>();
        var model = new VirtualMachineModel
        {
            Properties = new VirtualMachineProperties
            {
                HardwareProfile = new HardwareProfile { VmSize = "Standard_D2s_v3" },
                SecurityProfile = new SecurityProfile { SecurityType = "TrustedLaunch", UefiSettings = new UefiSettings { SecureBootEnabled = true, VTpmEnabled = true } },
                StorageProfile = new StorageProfile { ImageReference = new ImageReference { Publisher = "Debian", Offer = "debian-12", Sku = "12-gen2", Version = "latest", ExactVersion = "1.1.0" } },
            },
        };
        var results = _arm.Service.Service<TrustedLaunch.Server.Stores.IAttestationResultStore>();
        for (int i = 0; i < Vms; i++)
        {
            var vm = new VirtualMachineRecord
            {
                SubscriptionId = _arm.SubscriptionId, ResourceGroup = group, Name = $"vm{i:D5}", VmId = Guid.NewGuid(), Location = "westus", Version = 1, Model = model,
                ProvisioningState = ProvisioningState.Succeeded, DesiredPower = DesiredPowerState.Running, ActualPower = PowerState.Running, VCpus = 2, MemoryInMB = 8192,
                Generation = HyperVGeneration.V2, RestartGeneration = 0, TimeCreated = DateTimeOffset.UtcNow,
            };
            Assert.Equal(WriteOutcome.Written, await store.WriteAsync(new VirtualMachineWrite { Key = vm.Key, Record = vm }, default));
            await results.AddAsync(new TrustedLaunch.Server.Stores.AttestationRecord
            {
                VmId = vm.VmId, At = _arm.Service.Clock.GetUtcNow(), Verdict = TrustedLaunch.Server.Stores.AttestationVerdict.Pass, ClaimsJson = "{}",
            }, default);
        }

        PostureEngine engine = _arm.Service.Service<PostureEngine>();
        var clock = Stopwatch.StartNew();
        await engine.RunOnceAsync(fullSweep: true, default);
        TimeSpan first = clock.Elapsed;
        clock.Restart();
        await engine.RunOnceAsync(fullSweep: true, default);
        TimeSpan steady = clock.Elapsed;
        output.WriteLine($"first sweep (writes 40,000 assessments): {first.TotalMilliseconds:F0} ms; steady sweep: {steady.TotalMilliseconds:F0} ms");
        Assert.True(steady < TimeSpan.FromSeconds(1), $"steady sweep took {steady.TotalMilliseconds:F0} ms");
    }
}
