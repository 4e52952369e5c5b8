using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;

namespace TrustedLaunch.Portal.Data;

/// <summary>An ARM answer: its status and JSON body (an ARM error envelope when it failed).</summary>
public sealed record ArmReply(HttpStatusCode Status, JsonElement? Body)
{
    public bool Succeeded => (int)Status is >= 200 and < 300;

    /// <summary>The ARM error's message, for a failed answer.</summary>
    public string ErrorMessage => Body is JsonElement body && body.TryGetProperty("error", out JsonElement error) && error.TryGetProperty("message", out JsonElement message)
        ? message.GetString() ?? Status.ToString()
        : $"{(int)Status} {Status}";

    /// <summary>The messages of the error's details when it has any (a create's rule violations), else <see cref="ErrorMessage"/>.</summary>
    public string DetailedMessage => Body is JsonElement body && body.TryGetProperty("error", out JsonElement error) && error.TryGetProperty("details", out JsonElement details)
        && details.ValueKind == JsonValueKind.Array && details.GetArrayLength() > 0
        ? string.Join(" ", details.EnumerateArray().Select(d => d.TryGetProperty("message", out JsonElement m) ? m.GetString() : null).OfType<string>())
        : ErrorMessage;
}

/// <summary>
/// The portal as a client of the service's own ARM API (as Azure's portal is of ARM): posture, alerts and attestation
/// history are read and changed through the same endpoints the CLI uses, so their rules live in one place. The calls go
/// to the service's own loopback address, each with the credential of the portal request it serves (the signed-in
/// user's, <see cref="PortalSignIn"/>), so RBAC and the audit log see the real caller, never the portal.
/// </summary>
public sealed class PortalArmClient(IServer server, IHttpContextAccessor requests) : IDisposable
{
    public const string ComputeApi = "2024-07-01";
    public const string SecurityAlertsApi = "2022-01-01";
    public const string AssessmentsApi = "2021-06-01";
    public const string SuppressionRulesApi = "2019-01-01-preview";
    public const string SecureScoresApi = "2020-01-01";
    public const string DeploymentsApi = "2021-04-01";

    private readonly HttpClient _http = new(new SocketsHttpHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(30) };
    private Uri? _base;

    public Task<ArmReply> GetAsync(string path, string? apiVersion, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, apiVersion, null, cancellationToken);

    /// <summary>Tries <paramref name="credential"/> against the API (the subscription list answers any principal that authenticates).</summary>
    public Task<ArmReply> ProbeAsync(string credential, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "/subscriptions", "2022-12-01", null, cancellationToken, credential: "Bearer " + credential);

    public Task<ArmReply> PostAsync(string path, string? apiVersion, string? json, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, path, apiVersion, json, cancellationToken);

    /// <param name="createOnly">Sends <c>If-None-Match: *</c>: a PUT that must not replace an existing resource.</param>
    /// <param name="credential">The <c>Authorization</c> value to send; by default, the one of the portal request being served.</param>
    public async Task<ArmReply> SendAsync(HttpMethod method, string path, string? apiVersion, string? json, CancellationToken cancellationToken, bool createOnly = false,
        string? credential = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string query = apiVersion is null ? "" : (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "api-version=" + apiVersion;
        using var request = new HttpRequestMessage(method, new Uri(BaseAddress(), path + query));
        if ((credential ?? requests.HttpContext?.Request.Headers.Authorization.ToString()) is { Length: > 0 } authorization)
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (createOnly)
            request.Headers.TryAddWithoutValidation("If-None-Match", "*");
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken);
        byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        JsonElement? parsed = null;
        if (body.Length > 0)
        {
            try
            {
                parsed = JsonDocument.Parse(body).RootElement.Clone();
            }
            catch (JsonException)
            {
                parsed = null; // not JSON (an empty 204, a proxy's page): the status says enough
            }
        }

        return new ArmReply(response.StatusCode, parsed);
    }

    /// <summary>
    /// Opens a server-sent event stream of the API (<c>…/alerts:watch</c>) with the credential of the portal request
    /// being served; the caller reads (and disposes) the answer. <paramref name="lastEventId"/> resumes after that event.
    /// </summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(string path, string apiVersion, string? lastEventId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseAddress(), path + "?api-version=" + apiVersion));
        request.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        if (requests.HttpContext?.Request.Headers.Authorization.ToString() is { Length: > 0 } authorization)
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (lastEventId is not null)
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        // Headers only: the timeout covers the answer's start, not the stream that follows.
        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    // The first address Kestrel bound, with a wildcard host made the loopback one (port 0 is resolved by then).
    private Uri BaseAddress()
    {
        if (_base is not null)
            return _base;
        string address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The service has bound no address yet.");
        var builder = new UriBuilder(address.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal));
        if (builder.Host is "0.0.0.0")
            builder.Host = "127.0.0.1";
        else if (builder.Host is "[::]" or "::")
            builder.Host = "[::1]";
        _base = builder.Uri;
        return _base;
    }
}
