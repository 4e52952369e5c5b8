using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Benchmarks.Posture;

/// <summary>
/// Webhook fan-out: one alert status change (<c>POST …/alerts/{name}/inProgress</c>, then <c>activate</c>, alternately)
/// until 100 webhook subscriptions have each received and verified its signed CloudEvent. The service runs as
/// <c>tl server</c> does (background worker and dispatcher on, default parallelism 16); the 100 receivers are real HTTP
/// endpoints (one Kestrel, 100 loopback ports, so 100 connection pools on the sender's side) that check the
/// HMAC-SHA256 signature as a receiver must. One operation = event appended → outbox fan-out → 100 signed POSTs
/// answered → 100 delivery records written.
/// Run: flock /tmp/tl-build.lock dotnet run -c Release --project bench/TrustedLaunch.Benchmarks -- --filter '*WebhookFanOutBenchmarks*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class WebhookFanOutBenchmarks
{
    private const int Subscribers = 100;
    private const string Secret = "bench-secret-0123456789abcdef";
    private string _directory = "";
    private WebApplication _app = null!;
    private WebApplication _receivers = null!;
    private HttpClient _client = null!;
    private string _alertPath = "";
    private int _delivered;
    private int _refused;
    private int _changes;
    private TaskCompletionSource _allDelivered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _target;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _app.StopAsync().GetAwaiter().GetResult();
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _receivers.StopAsync().GetAwaiter().GetResult();
        _receivers.DisposeAsync().AsTask().GetAwaiter().GetResult();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        if (Volatile.Read(ref _refused) > 0)
            throw new InvalidOperationException($"{_refused} deliveries carried a bad signature");
    }

    [Benchmark]
    public async Task AlertChangeTo100Subscribers()
    {
        _allDelivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _target, Volatile.Read(ref _delivered) + Subscribers);
        string action = _changes++ % 2 == 0 ? "inProgress" : "activate";
        using HttpResponseMessage response = await _client.PostAsync($"{_alertPath}/{action}?api-version=2022-01-01", null);
        if (response.StatusCode != HttpStatusCode.NoContent)
            throw new InvalidOperationException($"POST {action}: {(int)response.StatusCode}");
        await _allDelivered.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    private async Task SetupAsync()
    {
        _receivers = await StartReceiversAsync();
        _directory = Path.Combine(Path.GetTempPath(), $"tl-fanout-bench-{Guid.NewGuid():N}");
        (_app, string subscriptionId, VirtualMachineRecord[] vms) = await BenchFleet.StartAsync(_directory, 1, backgroundWork: true);
        _client = new HttpClient { BaseAddress = new Uri(AttestationServiceHost.BoundAddresses(_app.Services)[0]), Timeout = TimeSpan.FromSeconds(60) };
        string provider = $"/subscriptions/{subscriptionId}/providers/Microsoft.Security";
        await Put($"{provider}/pricings/VirtualMachines?api-version=2024-01-01", new JsonObject { ["properties"] = new JsonObject { ["pricingTier"] = "Standard" } });
        string[] urls = _receivers.Urls.ToArray();
        if (urls.Length != Subscribers)
            throw new InvalidOperationException($"{urls.Length} receivers listening, not {Subscribers}");
        for (int i = 0; i < Subscribers; i++)
        {
            await Put($"{provider}/webhookSubscriptions/soc{i:D3}?api-version=2024-01-01", new JsonObject
            {
                ["properties"] = new JsonObject { ["url"] = urls[i] + "/hook", ["secret"] = Secret, ["eventTypes"] = new JsonArray("Microsoft.Security.AlertUpdated") },
            });
        }

        // One open alert to change: a failed attestation of the fleet's VM, folded by the background worker.
        await _app.Services.GetRequiredService<IAttestationResultStore>().AddAsync(new AttestationRecord
        {
            VmId = vms[0].VmId, At = DateTimeOffset.UtcNow, Verdict = AttestationVerdict.Fail, Reason = "BaselineDeviation", Component = "PCR[7]",
            Message = "PCR 7 differs from the baseline", ClaimsJson = "{}",
        }, default);
        for (int i = 0; i < 600 && _alertPath.Length == 0; i++)
        {
            JsonElement alerts = await _client.GetFromJsonAsync<JsonElement>($"{provider}/alerts?api-version=2022-01-01");
            if (alerts.GetProperty("value").GetArrayLength() > 0)
            {
                // The subscription-level route the status actions take (as tl security alert update builds it).
                JsonElement alert = alerts.GetProperty("value")[0];
                string location = alert.GetProperty("id").GetString()!.Split('/')[^3];
                _alertPath = $"{provider}/locations/{location}/alerts/{alert.GetProperty("name").GetString()}";
            }
            else
                await Task.Delay(50);
        }

        if (_alertPath.Length == 0)
            throw new InvalidOperationException("the alert was never raised");
    }

    private async Task Put(string path, JsonObject body)
    {
        using HttpResponseMessage response = await _client.PutAsync(path, JsonContent.Create(body));
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"PUT {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    // 100 receivers: one Kestrel listening on 100 loopback ports, each request's signature checked as docs/posture.md tells receivers.
    private async Task<WebApplication> StartReceiversAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            for (int i = 0; i < Subscribers; i++)
                kestrel.Listen(IPAddress.Loopback, 0);
        });
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        app.MapPost("/hook", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            IHeaderDictionary headers = context.Request.Headers;
            if (!WebhookSignature.Verify(headers[WebhookSignature.IdHeader].ToString(), headers[WebhookSignature.TimestampHeader].ToString(),
                buffer.ToArray(), Secret, headers[WebhookSignature.SignatureHeader].ToString()))
            {
                Interlocked.Increment(ref _refused);
                return Results.StatusCode(StatusCodes.Status401Unauthorized);
            }

            if (Interlocked.Increment(ref _delivered) >= Volatile.Read(ref _target))
                _allDelivered.TrySetResult();
            return Results.NoContent();
        });
        await app.StartAsync();
        return app;
    }
}
