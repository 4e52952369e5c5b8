using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
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
/// Every assessment of 10,000 store-backed Trusted Launch VMs (SQLite WAL file, one passed attestation each) evaluated
/// by one full sweep of the posture engine, in its steady state: the first sweep (in setup) wrote the 40,000
/// assessments; a steady one reads, compares and writes nothing. Goal (issue 14): under 1 s.
/// Run: dotnet run -c Release --project bench/TrustedLaunch.Benchmarks -- --filter '*PostureSweepBenchmarks*' --job short --iterationCount 5
/// </summary>
[MemoryDiagnoser]
public class PostureSweepBenchmarks
{
    private const int Vms = 10_000;
    private string _directory = "";
    private WebApplication _app = null!;
    private PostureEngine _engine = null!;

    /// <summary>Bytes and seconds of the first sweep, printed by the setup (BenchmarkDotNet measures the steady one).</summary>
    public static string FirstSweep { get; private set; } = "";

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _app.StopAsync().GetAwaiter().GetResult();
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public Task<PostureRun> SteadyFullSweep10000Vms() => _engine.RunOnceAsync(fullSweep: true, default);

    private async Task SetupAsync()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"tl-posture-bench-{Guid.NewGuid():N}");
        _app = AttestationServiceHost.Build(new AttestationServiceOptions
        {
            DataDirectory = _directory,
            Listen = "http://127.0.0.1:0",
            Posture = new PostureOptions { RunBackgroundWork = false },
        }, configureLogging: logging => logging.SetMinimumLevel(LogLevel.Warning));
        await _app.StartAsync();
        IServiceProvider services = _app.Services;
        SubscriptionRecord subscription = await services.GetRequiredService<ISubscriptionStore>().EnsureDefaultAsync(DateTimeOffset.UtcNow, default);
        await services.GetRequiredService<IResourceGroupStore>().SaveAsync(new ResourceGroupRecord
        {
            SubscriptionId = subscription.SubscriptionId, Name = "bench", Location = "westus", Version = 1,
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
        for (int i = 0; i < Vms; i++)
        {
            var vm = new VirtualMachineRecord
            {
                SubscriptionId = subscription.SubscriptionId, ResourceGroup = "bench", Name = $"vm{i:D5}", VmId = Guid.NewGuid(), Location = "westus", Version = 1,
                Model = model, ProvisioningState = ProvisioningState.Succeeded, DesiredPower = DesiredPowerState.Running, ActualPower = PowerState.Running,
                VCpus = 2, MemoryInMB = 8192, Generation = HyperVGeneration.V2, RestartGeneration = 0, TimeCreated = DateTimeOffset.UtcNow,
            };
            await machines.WriteAsync(new VirtualMachineWrite { Key = vm.Key, Record = vm }, default);
            await results.AddAsync(new AttestationRecord { VmId = vm.VmId, At = DateTimeOffset.UtcNow, Verdict = AttestationVerdict.Pass, ClaimsJson = "{}" }, default);
        }

        _engine = services.GetRequiredService<PostureEngine>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        PostureRun first = await _engine.RunOnceAsync(fullSweep: true, default);
        FirstSweep = $"first sweep: {first.VmsEvaluated} VMs, {first.StatusChanges} status changes in {clock.Elapsed.TotalMilliseconds:F0} ms";
        Console.WriteLine("// " + FirstSweep);
    }
}
