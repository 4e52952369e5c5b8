using System.Net.Http.Headers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Rules;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;

namespace TrustedLaunch.Benchmarks.ControlPlane;

/// <summary>
/// Reading VMs back as ARM answers: one VM (GET) and a resource group of 1,000 VMs (list, one page), each through the
/// SQLite store (WAL file) and the source-generated JSON of the answer, then the same two requests through the whole
/// service (Kestrel on loopback, routing, the api-version and subscription checks, HttpClient).
/// Run: dotnet run -c Release --project bench/TrustedLaunch.Benchmarks -- --filter '*VirtualMachineReadBenchmarks*' --job short
/// </summary>
[MemoryDiagnoser]
public class VirtualMachineReadBenchmarks
{
    private const string ApiVersion = "2024-07-01";
    private string _directory = "";
    private SqliteDatabase _database = null!;
    private SqlVirtualMachineStore _store = null!;
    private string _subscription = "";
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _app.StopAsync().GetAwaiter().GetResult();
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _database.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public async Task<byte[]> GetOneVm()
    {
        VirtualMachineRecord vm = (await _store.GetAsync(new VirtualMachineKey(_subscription, "bench", "vm0500"), default))!;
        return JsonSerializer.SerializeToUtf8Bytes(VirtualMachineViews.Resource(vm, ApiVersion), ControlPlaneJson.Web.VirtualMachineResource);
    }

    [Benchmark]
    public async Task<byte[]> List1000Vms()
    {
        Page<VirtualMachineRecord> page = await _store.ListAsync(_subscription, "bench", null, 1000, default);
        var list = new ArmList<VirtualMachineResource> { Value = page.Items.Select(v => VirtualMachineViews.Resource(v, ApiVersion)).ToArray() };
        return JsonSerializer.SerializeToUtf8Bytes(list, ControlPlaneJson.Web.ArmListVirtualMachineResource);
    }

    [Benchmark]
    public Task<byte[]> GetOneVmOverHttp() =>
        _client.GetByteArrayAsync($"/subscriptions/{_subscription}/resourceGroups/bench/providers/Microsoft.Compute/virtualMachines/vm0500?api-version={ApiVersion}");

    [Benchmark]
    public Task<byte[]> List1000VmsOverHttp() =>
        _client.GetByteArrayAsync($"/subscriptions/{_subscription}/resourceGroups/bench/providers/Microsoft.Compute/virtualMachines?api-version={ApiVersion}");

    private async Task SetupAsync()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"tl-cp-bench-{Guid.NewGuid():N}");
        _app = AttestationServiceHost.Build(new AttestationServiceOptions { DataDirectory = _directory, Listen = "http://127.0.0.1:0" },
            configureLogging: logging => logging.SetMinimumLevel(LogLevel.Warning));
        await _app.StartAsync();
        _client = new HttpClient { BaseAddress = new Uri(AttestationServiceHost.BoundAddresses(_app.Services)[0]) };
        _client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        _database = SqliteDatabase.Open(Path.Combine(_directory, AttestationServiceOptions.DatabaseFileName));
        _store = new SqlVirtualMachineStore(_database);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        _subscription = (await new SqlSubscriptionStore(_database).EnsureDefaultAsync(now, default)).SubscriptionId;
        await new SqlResourceGroupStore(_database).SaveAsync(new ResourceGroupRecord
        {
            SubscriptionId = _subscription, Name = "bench", Location = "westus", Version = 1, State = ResourceGroupState.Succeeded, CreatedAt = now,
        }, null, default);
        for (int i = 0; i < 1000; i++)
        {
            VirtualMachineRecord vm = Vm($"vm{i:D4}", now);
            if (await _store.WriteAsync(new VirtualMachineWrite { Key = vm.Key, Record = vm }, default) != WriteOutcome.Written)
                throw new InvalidOperationException("seeding failed");
        }
    }

    // A Trusted Launch VM as the planner builds it from a typical request (tags, size, image, OS disk, defaults).
    private VirtualMachineRecord Vm(string name, DateTimeOffset now)
    {
        var request = new VirtualMachineResource
        {
            Location = "westus",
            Tags = new Dictionary<string, string> { ["env"] = "bench", ["owner"] = "ops" },
            Properties = new VirtualMachineProperties
            {
                HardwareProfile = new HardwareProfile { VmSize = "Standard_D2s_v3" },
                StorageProfile = new StorageProfile
                {
                    ImageReference = new ImageReference { Publisher = "Debian", Offer = "debian-12", Sku = "12-gen2", Version = "latest" },
                    OsDisk = new OSDisk { CreateOption = "FromImage", ManagedDisk = new ManagedDiskParameters { StorageAccountType = "Premium_LRS" } },
                },
                OSProfile = new OSProfile { ComputerName = name, AdminUsername = "azureuser" },
            },
        };
        var vmId = Guid.NewGuid();
        VmPlan plan = VmPlanner.Plan(new VmPlanInput
        {
            Name = name, VmId = vmId, Request = request, Sent = request, Size = SizeCatalog.Default.Find("Standard_D2s_v3"),
            Image = new ImageLookup(ImageKind.Platform, "Debian:debian-12:12-gen2:latest", null, true, HyperVGeneration.V2, "1.0.0"),
        }, RuleTable.Default);
        return new VirtualMachineRecord
        {
            SubscriptionId = _subscription, ResourceGroup = "bench", Name = name, VmId = vmId, Location = "westus", Version = 3, Model = plan.Model,
            ProvisioningState = ProvisioningState.Succeeded, DesiredPower = DesiredPowerState.Running, ActualPower = PowerState.Running, HostName = null,
            VCpus = 2, MemoryInMB = 8192, Generation = HyperVGeneration.V2, RestartGeneration = 0, TimeCreated = now,
            LastReport = new VmHostReport { ReportedAt = now, BootVerdict = "booted" },
        };
    }
}
