using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Testing;
using Xunit.Abstractions;

namespace TrustedLaunch.Server.Tests.Posture;

/// <summary>
/// A full sweep over many store-backed VMs (SQLite, one attestation result each): the first writes every VM's four
/// assessments, a steady one evaluates them all and changes nothing. Its speed at 10,000 VMs is a benchmark
/// (bench/TrustedLaunch.Benchmarks/Posture/PostureSweepBenchmarks.cs, docs/benchmarks.md), not a timed test.
/// </summary>
public sealed class PostureSweepTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Vms = 200;
    private readonly PostureTestService _arm = new(caDirectory: null, backgroundWork: false);

    public Task InitializeAsync() => _arm.InitializeAsync();

    public Task DisposeAsync() => _arm.DisposeAsync();

    [Fact]
    public async Task FullSweep_ManyVms_FirstWritesEveryAssessmentSteadyChangesNothing()
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
        PostureRun first = await engine.RunOnceAsync(fullSweep: true, default);
        PostureRun steady = await engine.RunOnceAsync(fullSweep: true, default);
        output.WriteLine($"first: {first}; steady: {steady}");

        Assert.Equal(Vms, first.Results);
        IReadOnlyList<StoredAssessment> written = await _arm.Service.Service<SqlitePostureStore>().ListAssessmentsAsync(null, null, null, default);
        Assert.Equal(4 * Vms, written.Count);
        Assert.All(written, a => Assert.Equal(AssessmentStatusCode.Healthy, a.Status));
        Assert.Equal(0, first.StatusChanges); // a first evaluation is announced only when it finds something to fix
        Assert.Equal(Vms, steady.VmsEvaluated);
        Assert.Equal((0, 0), (steady.Results, steady.StatusChanges));
    }
}
