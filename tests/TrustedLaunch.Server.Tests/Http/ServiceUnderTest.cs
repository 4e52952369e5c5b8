using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Http;

/// <summary>
/// The real service (Kestrel on 127.0.0.1, a free port) over a per-test data folder, with a real <see cref="HttpClient"/>.
/// <see cref="RestartAsync"/> stops it and starts a new host over the same folder, as a service restart would.
/// </summary>
public sealed class ServiceUnderTest : IAsyncDisposable
{
    private readonly Func<AttestationServiceOptions, AttestationServiceOptions> _configure;

    private ServiceUnderTest(string dataDirectory, string? caDirectory, Func<AttestationServiceOptions, AttestationServiceOptions>? configure)
    {
        DataDirectory = dataDirectory;
        CaDirectory = caDirectory;
        _configure = configure ?? (o => o);
    }

    public string DataDirectory { get; }

    public string? CaDirectory { get; }

    public ManualTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public WebApplication App { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<ServiceUnderTest> StartAsync(string? caDirectory,
        Func<AttestationServiceOptions, AttestationServiceOptions>? configure = null)
    {
        var service = new ServiceUnderTest(RepositoryPaths.NewTempDirectory("tl-server"), caDirectory, configure);
        await service.StartHostAsync();
        return service;
    }

    public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();

    public Task RegisterAsync(Guid vmId, string? akCaPem = null) =>
        Service<IVmRegistry>().RegisterAsync(new RegisteredVm(vmId, akCaPem, Clock.GetUtcNow()), CancellationToken.None);

    /// <summary>POST …/challenges and return the nonce bytes.</summary>
    public async Task<byte[]> ChallengeAsync(Guid vmId)
    {
        using HttpResponseMessage response = await Client.PostAsync($"/v1/vms/{vmId}/challenges", null);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return Convert.FromBase64String(body.RootElement.GetProperty("nonce").GetString()!);
    }

    public Task<HttpResponseMessage> PostEvidenceAsync(Guid vmId, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return Client.PostAsync($"/v1/vms/{vmId}/attestations", content);
    }

    /// <summary>A challenge for the factory's VM, then evidence of <paramref name="capture"/>'s boot quoted by swtpm with its nonce.</summary>
    public async Task<(byte[] Nonce, byte[] Body)> ChallengeAndQuoteAsync(GenuineEvidenceFactory factory, string capture)
    {
        ArgumentNullException.ThrowIfNull(factory);
        byte[] nonce = await ChallengeAsync(factory.VmId);
        byte[] body = EvidenceJson.Serialize(factory.Attest(GenuineEvidenceFactory.CaptureLog(capture), nonce));
        return (nonce, body);
    }

    /// <summary>POST …/attestations: the status, the JSON body (a pass or a problem) and its media type.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body, string? ContentType)> AttestAsync(Guid vmId, byte[] body)
    {
        using HttpResponseMessage response = await PostEvidenceAsync(vmId, body);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>Challenge, quote and attest <paramref name="capture"/>'s boot for the factory's VM, asserting the status.</summary>
    public async Task<JsonElement> AttestExpectingAsync(GenuineEvidenceFactory factory, HttpStatusCode expected, string capture)
    {
        (_, byte[] body) = await ChallengeAndQuoteAsync(factory, capture);
        (HttpStatusCode status, JsonElement json, _) = await AttestAsync(factory.VmId, body);
        Assert.True(status == expected, $"expected {(int)expected}, got {(int)status}: {json}");
        return json;
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using HttpResponseMessage response = await Client.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>())!;
    }

    public async Task RestartAsync()
    {
        await StopHostAsync();
        await StartHostAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopHostAsync();
        Directory.Delete(DataDirectory, recursive: true);
    }

    private async Task StartHostAsync()
    {
        AttestationServiceOptions options = _configure(new AttestationServiceOptions
        {
            DataDirectory = DataDirectory,
            Listen = "http://127.0.0.1:0",
            CaDirectory = CaDirectory,
        });
        App = AttestationServiceHost.Build(options, Clock, logging => logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Warning));
        await App.StartAsync();
        BaseAddress = new Uri(AttestationServiceHost.BoundAddresses(App.Services)[0]);
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    private async Task StopHostAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        SqliteConnection.ClearAllPools();
    }
}
