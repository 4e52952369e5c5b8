using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Tests.ControlPlane;

namespace TrustedLaunch.Server.Tests.Posture;

/// <summary>
/// The real service with posture's intervals shortened, one registered host that converges VMs, and helpers for the
/// Microsoft.Security API. <paramref name="caDirectory"/>: the platform CA of the genuine-evidence factory, when attesting.
/// </summary>
public sealed class PostureTestService(string? caDirectory, bool backgroundWork = true) : ArmTestService
{
    public const string SecurityApi = "2022-01-01";

    public FakeHost Host { get; private set; } = null!;

    protected override string? CaDirectory => caDirectory;

    protected override AttestationServiceOptions Configure(AttestationServiceOptions options) => options with
    {
        Posture = new PostureOptions
        {
            ChangePollInterval = TimeSpan.FromMilliseconds(100),
            DispatchPollInterval = TimeSpan.FromMilliseconds(100),
            WebhookRetries = 2,
            WebhookRetryDelay = TimeSpan.FromMilliseconds(50),
            WebhookAttemptTimeout = TimeSpan.FromSeconds(5),
            WebhookDisableAfterFailures = 2,
            RunBackgroundWork = backgroundWork,
        },
    };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Host = new FakeHost(this, "host1");
        await Host.RegisterAsync(vCpus: 256, memoryInMB: 1024 * 1024);
    }

    public string Provider => $"/subscriptions/{SubscriptionId}/providers/Microsoft.Security";

    /// <summary>Creates a running VM (the host converges it) and answers its resource id and vmId.</summary>
    public async Task<(string Group, string Name, Guid VmId)> CreateRunningVmAsync(JsonObject? securityProfile = null, string sku = Gen2Sku,
        string size = "Standard_D2s_v3")
    {
        string group = await CreateGroupAsync();
        string name = NewName("vm");
        JsonObject body = VmBody(sku, size);
        if (securityProfile is not null)
            body["properties"]!["securityProfile"] = securityProfile;
        ArmAnswer created = await PutVmAsync(group, name, body);
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        await Host.ConvergeAsync();
        return (group, name, Guid.Parse(created.Body.GetProperty("properties").GetProperty("vmId").GetString()!));
    }

    public async Task SetPlanAsync(string tier)
    {
        ArmAnswer set = await SendAsync(HttpMethod.Put, $"{Provider}/pricings/VirtualMachines?api-version=2024-01-01",
            new JsonObject { ["properties"] = new JsonObject { ["pricingTier"] = tier } });
        Assert.True(set.Status == HttpStatusCode.OK, set.ToString());
    }

    public async Task<JsonElement[]> AlertsAsync(string? query = null) =>
        (await GetAsync($"{Provider}/alerts?api-version={SecurityApi}{query}")).Body.GetProperty("value").EnumerateArray().ToArray();

    /// <summary>Polls until <paramref name="done"/> holds for the alerts (posture runs in the background).</summary>
    public async Task<JsonElement[]> WaitForAlertsAsync(Func<JsonElement[], bool> done, string? query = null)
    {
        for (int i = 0; i < 200; i++)
        {
            JsonElement[] alerts = await AlertsAsync(query);
            if (done(alerts))
                return alerts;
            await Task.Delay(50);
        }

        Assert.Fail($"the alerts never reached the expected state: {JsonSerializer.Serialize(await AlertsAsync(query))}");
        return [];
    }

    public async Task<JsonElement> AssessmentAsync(string group, string vm, string key, bool wait = true)
    {
        for (int i = 0; i < 200; i++)
        {
            ArmAnswer answer = await GetAsync($"{VmPath(group, vm)}/providers/Microsoft.Security/assessments/{key}?api-version=2021-06-01&$expand=metadata");
            if (answer.Status == HttpStatusCode.OK || !wait)
                return answer.Body;
            await Task.Delay(50);
        }

        Assert.Fail("the assessment was never evaluated");
        return default;
    }

    /// <summary>Waits until the assessment's status code is <paramref name="code"/>.</summary>
    public async Task<JsonElement> WaitForAssessmentAsync(string group, string vm, string key, string code)
    {
        JsonElement assessment = default;
        for (int i = 0; i < 200; i++)
        {
            assessment = await AssessmentAsync(group, vm, key);
            if (assessment.GetProperty("properties").GetProperty("status").GetProperty("code").GetString() == code)
                return assessment;
            await Task.Delay(50);
        }

        Assert.Fail($"expected {code}: {assessment}");
        return default;
    }

    public static JsonElement Properties(JsonElement alert) => alert.GetProperty("properties");

    public static string Extended(JsonElement alert, string name) =>
        Properties(alert).GetProperty("extendedProperties").GetProperty(name).GetString()!;
}

/// <summary>A webhook receiver: Kestrel on loopback, recording each request's headers and body, answering 200 (or 500 when failing).</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<(IReadOnlyDictionary<string, string> Headers, byte[] Body)> Received { get; } = new();

    public bool Failing { get; set; }

    public string Url { get; private set; } = "";

    public static async Task<WebhookReceiver> StartAsync(bool failing = false)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        var receiver = new WebhookReceiver(app) { Failing = failing };
        app.MapPost("/hook", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            receiver.Received.Enqueue((context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()), buffer.ToArray()));
            return receiver.Failing ? Results.StatusCode(500) : Results.Ok();
        });
        await app.StartAsync();
        receiver.Url = app.Urls.First() + "/hook";
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
