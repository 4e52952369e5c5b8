using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Cli.Commands.Security;

/// <summary>
/// The Microsoft.Security API of <c>tl server</c> as <c>tl security</c> calls it: the server (<c>--server</c>, else
/// <c>TL_SERVER</c>, else <c>http://127.0.0.1:5380</c>), the default subscription, ARM errors as exit codes (400 → 2,
/// 404/409 → 1, no answer → 3). Answers are printed as JSON, as <c>az</c> prints them.
/// </summary>
internal sealed class SecurityClient : IDisposable
{
    public const string ServerVariable = "TL_SERVER";
    public const string DefaultServer = "http://127.0.0.1:5380";

    private readonly HttpClient _http;
    private string? _subscription;

    public SecurityClient(string? server, string? subscription, TimeSpan? timeout = null, string? token = null)
    {
        string text = server ?? (Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultServer);
        if (!Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https"))
            throw new CliException(ExitCode.BadInput, $"The server '{text}' is not an http:// URL (--server or {ServerVariable}).");
        _http = new HttpClient { BaseAddress = uri, Timeout = timeout ?? TimeSpan.FromSeconds(100) };
        if (Arm.ArmOptions.BearerToken(token) is string bearer)
            _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        _subscription = subscription;
    }

    public async Task<string> ProviderAsync(CancellationToken cancellationToken) =>
        $"subscriptions/{await SubscriptionAsync(cancellationToken).ConfigureAwait(false)}/providers/Microsoft.Security";

    public async Task<string> GroupAsync(string group, CancellationToken cancellationToken) =>
        $"subscriptions/{await SubscriptionAsync(cancellationToken).ConfigureAwait(false)}/resourceGroups/{Uri.EscapeDataString(group)}";

    public async Task<string> SubscriptionAsync(CancellationToken cancellationToken)
    {
        if (_subscription is not null)
            return _subscription;
        JsonElement list = await SendAsync(HttpMethod.Get, "subscriptions?api-version=2022-12-01", null, cancellationToken).ConfigureAwait(false);
        foreach (JsonElement subscription in list.GetProperty("value").EnumerateArray())
            return _subscription = subscription.GetProperty("subscriptionId").GetString()!;
        throw new CliException(ExitCode.VerificationFailed, "The service has no subscription yet.");
    }

    /// <summary>Sends a request and answers its JSON body (default for an empty one).</summary>
    public async Task<JsonElement> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new CliException(ExitCode.EnvironmentProblem, $"The service at {_http.BaseAddress} does not answer ({e.Message}); start it with 'tl server' or give --server.", e);
        }

        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            JsonElement json = default;
            if (text.Length > 0)
            {
                try
                {
                    json = JsonDocument.Parse(text).RootElement.Clone();
                }
                catch (JsonException)
                {
                    // not JSON: the status says enough
                }
            }

            if (response.IsSuccessStatusCode)
                return json;
            ExitCode code = response.StatusCode switch
            {
                HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge => ExitCode.BadInput,
                >= HttpStatusCode.InternalServerError => ExitCode.EnvironmentProblem,
                _ => ExitCode.VerificationFailed,
            };
            throw new CliException(code, Describe(response.StatusCode, json, text));
        }
    }

    /// <summary>The response stream of a long-lived GET (server-sent events).</summary>
    public async Task<Stream> OpenStreamAsync(string path, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new CliException(ExitCode.EnvironmentProblem, $"The service at {_http.BaseAddress} does not answer ({e.Message}).", e);
        }

        if (!response.IsSuccessStatusCode)
        {
            string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            response.Dispose();
            throw new CliException(ExitCode.VerificationFailed, Describe(response.StatusCode, default, text));
        }

        return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _http.Dispose();

    private static string Describe(HttpStatusCode status, JsonElement json, string text)
    {
        if (json.ValueKind == JsonValueKind.Object && json.TryGetProperty("error", out JsonElement error))
        {
            var lines = new List<string> { $"({Text(error, "code")}) {Text(error, "message")}{Target(error)}" };
            if (error.TryGetProperty("details", out JsonElement details) && details.ValueKind == JsonValueKind.Array && details.GetArrayLength() > 1)
                lines.AddRange(details.EnumerateArray().Select(d => $"  ({Text(d, "code")}) {Text(d, "message")}{Target(d)}"));
            return string.Join(Environment.NewLine, lines);
        }

        return $"{(int)status} {status}: {text}";
    }

    private static string Target(JsonElement e) => Text(e, "target") is string t ? $" [{t}]" : "";

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
