using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Hosts;

namespace TrustedLaunch.HostAgent.Http;

/// <summary>A call to the control plane failed: no answer (<see cref="StatusCode"/> null) or an error answer.</summary>
public sealed class ControlPlaneCallException : Exception
{
    public ControlPlaneCallException() { }

    public ControlPlaneCallException(string message) : base(message) { }

    public ControlPlaneCallException(string message, Exception innerException) : base(message, innerException) { }

    public ControlPlaneCallException(HttpStatusCode? status, string? code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = status;
        Code = code;
    }

    public HttpStatusCode? StatusCode { get; }

    /// <summary>The ARM error code (<c>HostNotFound</c>) or the problem reason, when the answer had one.</summary>
    public string? Code { get; }
}

/// <summary>How the attestation service judged relayed evidence.</summary>
/// <param name="Token">The issued token on a pass: a JWS, or a JWE when the evidence carried a bound key.</param>
public sealed record AttestationPostResult(bool Passed, string? Reason, string? Component, long? ResultId, string? Token = null);

/// <summary>
/// The host's side of its two conversations with <c>tl server</c>, over HTTP and initiated by the host only: the host
/// contract (register, long-poll assignments, report) and the attestation API (challenge, evidence, agent-unresponsive).
/// </summary>
public sealed class ControlPlaneClient : IDisposable
{
    private readonly Uri _server;
    private readonly List<HttpClient> _retired = [];
    private HttpClient _http;

    public ControlPlaneClient(Uri server, HttpMessageHandler? handler = null, HostCredential? credential = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        _server = server;
        _http = Create(server, handler ?? (credential ?? new HostCredential()).CreateHandler(), credential);
    }

    /// <summary>
    /// Calls from now on go over new connections that present <paramref name="credential"/> (a renewed client
    /// certificate). Calls under way, such as a long-poll, finish on the connections they have; those are closed when
    /// this client is disposed.
    /// </summary>
    public void UseCredential(HostCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        HttpClient next = Create(_server, credential.CreateHandler(), credential);
        lock (_retired)
            _retired.Add(Interlocked.Exchange(ref _http, next));
    }

    // Each call sets its own deadline (a long-poll lasts as long as it asked for), so the client has none.
    private static HttpClient Create(Uri server, HttpMessageHandler handler, HostCredential? credential)
    {
        var http = new HttpClient(handler) { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
        if (credential?.BearerToken is string token)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public Task<HostView> RegisterAsync(string host, HostRegistration registration, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, $"v1/hosts/{Uri.EscapeDataString(host)}", Json(registration, ControlPlaneJson.Default.HostRegistration),
            ControlPlaneJson.Default.HostView, TimeSpan.FromSeconds(30), cancellationToken);

    public Task<HostAssignments> PollAsync(string host, string? token, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string query = string.Create(CultureInfo.InvariantCulture, $"timeoutSeconds={(int)timeout.TotalSeconds}");
        if (token is not null)
            query += "&token=" + Uri.EscapeDataString(token);
        return SendAsync(HttpMethod.Get, $"v1/hosts/{Uri.EscapeDataString(host)}/assignments?{query}", null, ControlPlaneJson.Default.HostAssignments,
            timeout + TimeSpan.FromSeconds(30), cancellationToken);
    }

    public Task<HostReportResult> ReportAsync(string host, HostReport report, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"v1/hosts/{Uri.EscapeDataString(host)}/reports", Json(report, ControlPlaneJson.Default.HostReport),
            ControlPlaneJson.Default.HostReportResult, TimeSpan.FromSeconds(30), cancellationToken);

    /// <summary>Registers a libvirt domain this host attests (<c>PUT /v1/hosts/{host}/libvirtDomains/{uuid}</c>).</summary>
    public Task<LibvirtDomainRegistered> RegisterLibvirtDomainAsync(string host, Guid domainUuid, LibvirtDomainRegistration registration,
        CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, $"v1/hosts/{Uri.EscapeDataString(host)}/libvirtDomains/{domainUuid:D}",
            Json(registration, ControlPlaneJson.Default.LibvirtDomainRegistration), ControlPlaneJson.Default.LibvirtDomainRegistered, TimeSpan.FromSeconds(30),
            cancellationToken);

    /// <summary>Lands a backup this host restored as a disk resource (<c>PUT /v1/hosts/{host}/restoredDisks/{diskId}</c>).</summary>
    public Task<TrustedLaunch.ControlPlane.Model.DiskResource> RegisterRestoredDiskAsync(string host, Guid diskId,
        TrustedLaunch.ControlPlane.Disks.RestoredDiskRegistration registration, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, $"v1/hosts/{Uri.EscapeDataString(host)}/restoredDisks/{diskId:D}",
            Json(registration, ControlPlaneJson.Default.RestoredDiskRegistration), ControlPlaneJson.Default.DiskResource, TimeSpan.FromSeconds(30),
            cancellationToken);

    /// <summary>A fresh single-use nonce for the VM (<c>POST /v1/vms/{id}/challenges</c>).</summary>
    public async Task<byte[]> IssueChallengeAsync(Guid vmId, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await CallAsync(HttpMethod.Post, $"v1/vms/{vmId:D}/challenges", null, TimeSpan.FromSeconds(30), cancellationToken);
        using JsonDocument body = await ReadDocumentAsync(response, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw Failure(response.StatusCode, body, "challenge");
        return body.RootElement.TryGetProperty("nonce", out JsonElement nonce) && nonce.ValueKind == JsonValueKind.String
            ? Convert.FromBase64String(nonce.GetString()!)
            : throw new ControlPlaneCallException(response.StatusCode, null, "The challenge answer has no nonce.");
    }

    /// <summary>Hands the guest's evidence to the attestation service (<c>POST /v1/vms/{id}/attestations</c>); a failed verification is an answer, not an exception.</summary>
    public async Task<AttestationPostResult> PostEvidenceAsync(Guid vmId, byte[] evidenceJson, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(evidenceJson);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using HttpResponseMessage response = await CallAsync(HttpMethod.Post, $"v1/vms/{vmId:D}/attestations", content, TimeSpan.FromSeconds(60), cancellationToken);
        using JsonDocument body = await ReadDocumentAsync(response, cancellationToken);
        JsonElement root = body.RootElement;
        string? Text(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : null;
        long? id = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("resultId", out JsonElement r) && r.ValueKind == JsonValueKind.Number ? r.GetInt64() : null;
        return response.StatusCode switch
        {
            HttpStatusCode.OK => new AttestationPostResult(true, null, null, id, Text("token")),
            HttpStatusCode.UnprocessableEntity or HttpStatusCode.Conflict or HttpStatusCode.BadRequest => new AttestationPostResult(false, Text("reason"), Text("component"), id),
            _ => throw Failure(response.StatusCode, body, "evidence"),
        };
    }

    /// <summary>The service's token signing keys (<c>GET /certs</c>, a JWK Set), as raw JSON for the guest to verify a token with.</summary>
    public async Task<string> GetTokenKeysAsync(CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await CallAsync(HttpMethod.Get, "certs", null, TimeSpan.FromSeconds(30), cancellationToken);
        byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            using JsonDocument error = Parse(body);
            throw Failure(response.StatusCode, error, "certs");
        }

        return System.Text.Encoding.UTF8.GetString(body);
    }

    /// <summary>Records that the guest agent did not answer (<c>POST /v1/vms/{id}/attestations:agent-unresponsive</c>).</summary>
    public async Task ReportAgentUnresponsiveAsync(Guid vmId, string message, CancellationToken cancellationToken)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["message"] = message }, HostAgentJson.Default.DictionaryStringString);
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using HttpResponseMessage response = await CallAsync(HttpMethod.Post, $"v1/vms/{vmId:D}/attestations:agent-unresponsive", content,
            TimeSpan.FromSeconds(30), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            using JsonDocument body = await ReadDocumentAsync(response, cancellationToken);
            throw Failure(response.StatusCode, body, "agent-unresponsive report");
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        lock (_retired)
        {
            foreach (HttpClient retired in _retired)
                retired.Dispose();
            _retired.Clear();
        }
    }

    private static ByteArrayContent Json<T>(T value, JsonTypeInfo<T> type)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, type));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private async Task<TResult> SendAsync<TResult>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<TResult> type, TimeSpan deadline,
        CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await CallAsync(method, path, content, deadline, cancellationToken);
        byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            using JsonDocument error = Parse(body);
            throw Failure(response.StatusCode, error, path);
        }

        try
        {
            return JsonSerializer.Deserialize(body, type) ?? throw new ControlPlaneCallException(response.StatusCode, null, $"{path}: empty answer.");
        }
        catch (JsonException e)
        {
            throw new ControlPlaneCallException(response.StatusCode, null, $"{path}: the answer is not the expected JSON: {e.Message}", e);
        }
    }

    private async Task<HttpResponseMessage> CallAsync(HttpMethod method, string path, HttpContent? content, TimeSpan deadline, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        using var request = new HttpRequestMessage(method, path) { Content = content };
        try
        {
            HttpResponseMessage response = await Volatile.Read(ref _http).SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
            return response;
        }
        catch (HttpRequestException e)
        {
            throw new ControlPlaneCallException(null, null, $"{method} {path}: {e.Message}", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ControlPlaneCallException(null, null, $"{method} {path}: no answer within {deadline.TotalSeconds:0} s.", e);
        }
    }

    private static async Task<JsonDocument> ReadDocumentAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));

    private static JsonDocument Parse(byte[] body)
    {
        try
        {
            return body.Length == 0 ? JsonDocument.Parse("{}") : JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return JsonDocument.Parse("{}");
        }
    }

    // ARM's envelope {"error":{"code","message"}} or the attestation API's problem document {reason, detail}.
    private static ControlPlaneCallException Failure(HttpStatusCode status, JsonDocument body, string what)
    {
        JsonElement root = body.RootElement;
        string? code = null, message = null;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.Object)
        {
            code = error.TryGetProperty("code", out JsonElement c) ? c.GetString() : null;
            message = error.TryGetProperty("message", out JsonElement m) ? m.GetString() : null;
        }
        else if (root.ValueKind == JsonValueKind.Object)
        {
            code = root.TryGetProperty("reason", out JsonElement r) ? r.GetString() : null;
            message = root.TryGetProperty("detail", out JsonElement d) ? d.GetString() : null;
        }

        return new ControlPlaneCallException(status, code, $"{what}: {(int)status} {code}: {message}");
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class HostAgentJson : System.Text.Json.Serialization.JsonSerializerContext;
