using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using TrustedLaunch.Server.Posture;

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
        (_app, _, _) = await BenchFleet.StartAsync(_directory, Vms, backgroundWork: false);
        IServiceProvider services = _app.Services;
        _engine = services.GetRequiredService<PostureEngine>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        PostureRun first = await _engine.RunOnceAsync(fullSweep: true, default);
        FirstSweep = $"first sweep: {first.VmsEvaluated} VMs, {first.StatusChanges} status changes in {clock.Elapsed.TotalMilliseconds:F0} ms";
        Console.WriteLine("// " + FirstSweep);
    }
}
