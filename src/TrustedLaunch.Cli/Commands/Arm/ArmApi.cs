using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace TrustedLaunch.Cli.Commands.Arm;

/// <summary>One answer of the control plane: status, the long-running-operation headers and the JSON body (or text).</summary>
internal sealed record ArmAnswer(HttpStatusCode Status, string? AsyncOperation, string? Location, JsonElement? Body, string Text);

/// <summary>
/// The control plane's ARM API as the <c>tl group|vm|image</c> commands call it: the default subscription, requests
/// with their api-version, ARM's errors as <see cref="ArmApiException"/>, and the wait for a long-running operation
/// (<c>Azure-AsyncOperation</c>) as az does it, with one progress line.
/// </summary>
internal sealed class ArmApi : IDisposable
{
    public const string ComputeApiVersion = "2024-07-01";
    public const string ResourcesApiVersion = "2021-04-01";
    public const string SubscriptionsApiVersion = "2022-12-01";

    private readonly HttpClient _http;
    private string? _subscription;

    public ArmApi(Uri server, string? subscription, string? token = null)
    {
        Server = server;
        _subscription = subscription;
        _http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(100) };
        if (ArmOptions.BearerToken(token) is string bearer)
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
    }

    public Uri Server { get; }

    /// <summary>The subscription: the one given, else the first the service lists (the default it created).</summary>
    public async Task<string> SubscriptionAsync(CancellationToken cancellationToken)
    {
        if (_subscription is not null)
            return _subscription;
        ArmAnswer answer = await SendAsync(HttpMethod.Get, "subscriptions", SubscriptionsApiVersion, null, cancellationToken).ConfigureAwait(false);
        foreach (JsonElement subscription in answer.Body!.Value.GetProperty("value").EnumerateArray())
            return _subscription = subscription.GetProperty("subscriptionId").GetString()!;
        throw new ArmApiException(HttpStatusCode.NotFound, "SubscriptionNotFound", "The service has no subscription yet.");
    }

    public async Task<string> GroupPathAsync(string group, CancellationToken cancellationToken) =>
        $"subscriptions/{await SubscriptionAsync(cancellationToken).ConfigureAwait(false)}/resourceGroups/{Uri.EscapeDataString(group)}";

    public async Task<string> VmPathAsync(string group, string name, CancellationToken cancellationToken) =>
        $"{await GroupPathAsync(group, cancellationToken).ConfigureAwait(false)}/providers/Microsoft.Compute/virtualMachines/{Uri.EscapeDataString(name)}";

    /// <summary>Sends a request; an error answer becomes <see cref="ArmApiException"/>.</summary>
    public async Task<ArmAnswer> SendAsync(HttpMethod method, string path, string? apiVersion, byte[]? json, CancellationToken cancellationToken)
    {
        string url = apiVersion is null ? path : $"{path}{(path.Contains('?', StringComparison.Ordinal) ? '&' : '?')}api-version={apiVersion}";
        using var request = new HttpRequestMessage(method, url);
        if (json is not null)
        {
            request.Content = new ByteArrayContent(json);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new ArmApiException(null, null, $"The control plane at {Server} does not answer ({e.Message}); start it with 'tl server' or give --server.", null, e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ArmApiException(null, null, $"The control plane at {Server} did not answer in time.", null, e);
        }

        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            JsonElement? body = null;
            if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true)
            {
                try
                {
                    body = JsonDocument.Parse(text).RootElement.Clone();
                }
                catch (JsonException)
                {
                    // Not JSON after all: the text is kept.
                }
            }

            if (!response.IsSuccessStatusCode)
                throw Error(response.StatusCode, body, text);
            string? Header(string name) => response.Headers.TryGetValues(name, out IEnumerable<string>? values) ? values.FirstOrDefault() : null;
            return new ArmAnswer(response.StatusCode, Header("Azure-AsyncOperation"), response.Headers.Location?.ToString(), body, text);
        }
    }

    public Task<ArmAnswer> GetAsync(string path, string apiVersion, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, apiVersion, null, cancellationToken);

    /// <summary>
    /// Polls an operation monitor until it ends; the progress line ("Running" with the seconds so far) is rewritten in place
    /// on a terminal and written once otherwise. A Failed or Canceled operation becomes <see cref="ArmOperationFailedException"/>.
    /// </summary>
    public async Task<TimeSpan> WaitAsync(string operationUrl, string what, TextWriter progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        bool interactive = ReferenceEquals(progress, Console.Error) && !Console.IsErrorRedirected;
        progress.Write($"tl: {what} ");
        progress.Flush();
        while (true)
        {
            ArmAnswer answer = await SendAsync(HttpMethod.Get, operationUrl, null, null, cancellationToken).ConfigureAwait(false);
            JsonElement status = answer.Body!.Value;
            string state = status.GetProperty("status").GetString()!;
            if (state != "InProgress")
            {
                progress.WriteLine($"{(interactive ? "\r" + $"tl: {what} " : "")}{state} ({clock.Elapsed.TotalSeconds:0.0} s)");
                if (state == "Succeeded")
                    return clock.Elapsed;
                string error = status.TryGetProperty("error", out JsonElement e) && e.ValueKind == JsonValueKind.Object
                    ? $"({e.GetProperty("code").GetString()}) {e.GetProperty("message").GetString()}"
                    : state;
                throw new ArmOperationFailedException($"{what.TrimEnd(':')}: the operation {state.ToLowerInvariant()}: {error}");
            }

            if (interactive)
                progress.Write($"\rtl: {what} Running ({clock.Elapsed.TotalSeconds:0} s) ");
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _http.Dispose();

    public static byte[] Json(object value, System.Text.Json.Serialization.Metadata.JsonTypeInfo type) =>
        Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value, type));

    private static ArmApiException Error(HttpStatusCode status, JsonElement? body, string text)
    {
        if (body is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.Object)
        {
            var details = new List<string>();
            if (error.TryGetProperty("details", out JsonElement list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement d in list.EnumerateArray())
                    details.Add($"({Text(d, "code")}) {Text(d, "message")}{(Text(d, "target") is string t ? $" [{t}]" : "")}");
            }

            if (details.Count == 1)
                details.Clear(); // a single violation is the error itself
            return new ArmApiException(status, Text(error, "code"), Text(error, "message") ?? "", details);
        }

        if (body is { ValueKind: JsonValueKind.Object } problem && Text(problem, "detail") is string detail)
            return new ArmApiException(status, Text(problem, "reason") ?? Text(problem, "title"), detail);
        return new ArmApiException(status, ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture), text.Length > 0 ? text : status.ToString());
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
