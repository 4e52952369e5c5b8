using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using TrustedLaunch.Benchmarks.Posture;
using TrustedLaunch.Server;

namespace TrustedLaunch.Benchmarks.Portal;

/// <summary>
/// Time to first byte of the portal's virtual machines page (<c>GET /portal/vms</c>, one page of 100 rows of the sorted,
/// filtered list) on a fleet of 1,000 store-backed Trusted Launch VMs, each with an attestation result, over loopback
/// HTTP from a client in the same process. The page is rendered on the server in full before it is sent, so the first
/// byte is the whole work: every VM read, its latest attestation, sort, render. A filtered page (<c>?health=fail</c>,
/// no row) isolates the reads from the rendering of rows. Goal (issue 18): first byte under 200 ms.
/// Run: flock /tmp/tl-build.lock dotnet run -c Release --project bench/TrustedLaunch.Benchmarks -- --filter '*PortalFirstByteBenchmarks*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class PortalFirstByteBenchmarks
{
    private const int Vms = 1000;
    private string _directory = "";
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "tl-bench-portal-" + Guid.NewGuid().ToString("N"));
        (_app, _, _) = BenchFleet.StartAsync(_directory, Vms, backgroundWork: false).GetAwaiter().GetResult();
        _http = new HttpClient { BaseAddress = new Uri(AttestationServiceHost.BoundAddresses(_app.Services)[0]) };
        if (FirstByteAsync("/portal/vms").GetAwaiter().GetResult() != (byte)'<')
            throw new InvalidOperationException("The VM list did not answer with HTML.");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _http.Dispose();
        _app.StopAsync().GetAwaiter().GetResult();
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public Task<int> VmList() => FirstByteAsync("/portal/vms");

    [Benchmark]
    public Task<int> VmListSortedByAttestationDescending() => FirstByteAsync("/portal/vms?sort=attestation&desc=true");

    [Benchmark]
    public Task<int> VmListFilteredToNone() => FirstByteAsync("/portal/vms?health=fail");

    private async Task<int> FirstByteAsync(string path)
    {
        using HttpResponseMessage response = await _http.GetAsync(new Uri(path, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using Stream body = await response.Content.ReadAsStreamAsync();
        byte[] one = new byte[1];
        return await body.ReadAsync(one) == 1 ? one[0] : -1;
    }
}
