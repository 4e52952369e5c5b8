using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Replicas;
using TrustedLaunch.Server.Telemetry;

namespace TrustedLaunch.Server.Posture;

/// <summary>
/// Delivers the event stream to webhook subscriptions, at least once: events are fanned out into a persisted outbox
/// (one row per subscription and event, so a restart resumes where it stopped), each delivery is a POST of the
/// structured CloudEvent signed with HMAC-SHA256 (<see cref="WebhookSignature"/>), retried with exponential backoff and
/// jitter by a Polly pipeline, every attempt written to the delivery log; a subscription whose deliveries keep failing
/// is disabled. Receivers de-duplicate on <c>webhook-id</c> (the CloudEvent id).
/// </summary>
internal sealed class WebhookDispatcher : BackgroundService
{
    private readonly SqlSecurityStore _store;
    private readonly MaintenanceLeader _leader;
    private readonly PostureSignals _signals;
    private readonly PostureOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDispatcher> _logger;
    private readonly PostureTelemetry _telemetry;
    private readonly HttpClient _http;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

    public WebhookDispatcher(SqlSecurityStore store, MaintenanceLeader leader, PostureSignals signals, PostureOptions options, TimeProvider time,
        ILogger<WebhookDispatcher> logger, PostureTelemetry telemetry)
    {
        _telemetry = telemetry;
        _store = store;
        _leader = leader;
        _signals = signals;
        _options = options;
        _time = time;
        _logger = logger;
        // No redirects: a receiver cannot bounce the signed event (and its secret's signature) to another host.
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>().Handle<HttpRequestException>().Handle<TimeoutRejectedException>()
                    .HandleResult(response => !response.IsSuccessStatusCode),
                MaxRetryAttempts = Math.Max(1, options.WebhookRetries),
                Delay = options.WebhookRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(options.WebhookAttemptTimeout)
            .Build();
    }

    /// <summary>Fans out new events and delivers what is due, once; returns how many deliveries it made.</summary>
    public async Task<int> DispatchOnceAsync(CancellationToken cancellationToken)
    {
        while (await _store.FanOutAsync(WebhookFilter.Matches, _time.GetUtcNow(), 500, cancellationToken) > 0)
        {
        }

        IReadOnlyList<OutboxItem> due = await _store.DueAsync(_time.GetUtcNow(), 256, cancellationToken);
        if (due.Count == 0)
            return 0;
        var secrets = new Dictionary<(string, string), (WebhookSubscription, string)?>();
        foreach (OutboxItem item in due)
        {
            if (!secrets.ContainsKey((item.SubscriptionId, item.WebhookName)))
                secrets[(item.SubscriptionId, item.WebhookName)] = await _store.GetWebhookAsync(item.SubscriptionId, item.WebhookName, cancellationToken);
        }

        // Deliveries to one subscription go in event order; subscriptions are served in parallel.
        await Parallel.ForEachAsync(due.GroupBy(i => (i.SubscriptionId, i.WebhookName)),
            new ParallelOptions { MaxDegreeOfParallelism = _options.WebhookParallelism, CancellationToken = cancellationToken },
            async (group, token) =>
            {
                if (secrets[group.Key] is not (WebhookSubscription webhook, string secret))
                    return;
                foreach (OutboxItem item in group)
                {
                    if (!await DeliverAsync(item, webhook, secret, token))
                        break; // disabled: the rest waits (re-creating the subscription enables it again)
                }
            });
        return due.Count;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            Task wake = _signals.NextEventsAsync();
            try
            {
                // One replica delivers (docs/scale-out.md); the outbox waits in the database for whichever leads.
                if (_leader.IsLeader)
                    await DispatchOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // the dispatcher outlives any one failure; each is logged
            catch (Exception e)
#pragma warning restore CA1031
            {
                PostureLog.DispatchFailed(_logger, e);
            }

            try
            {
                await Task.WhenAny(wake, Task.Delay(_options.DispatchPollInterval, stoppingToken));
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    // True while the subscription stays enabled.
    private async Task<bool> DeliverAsync(OutboxItem item, WebhookSubscription webhook, string secret, CancellationToken cancellationToken)
    {
        byte[] body = Encoding.UTF8.GetBytes(item.Event.EventJson);
        var attempts = new List<DeliveryRecord>();
        bool delivered = false;
        try
        {
            using HttpResponseMessage response = await _pipeline.ExecuteAsync(async token =>
            {
                int attempt = item.Attempts + attempts.Count + 1;
                DateTimeOffset at = _time.GetUtcNow();
                using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(SecurityEvents.MediaType) { CharSet = "utf-8" };
                WebhookSignature.Sign(request.Headers, item.Event.EventId, at, body, secret);
                try
                {
                    HttpResponseMessage answer = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
                    attempts.Add(new DeliveryRecord(0, item.Event.EventId, attempt, at, (int)answer.StatusCode,
                        answer.IsSuccessStatusCode ? "Delivered" : "Failed", answer.IsSuccessStatusCode ? null : $"HTTP {(int)answer.StatusCode}"));
                    return answer;
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    attempts.Add(new DeliveryRecord(0, item.Event.EventId, attempt, at, null, "Failed",
                        e is OperationCanceledException ? "timed out" : e.Message));
                    throw;
                }
            }, cancellationToken);
            delivered = response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            delivered = false;
        }

        _telemetry.Delivered(delivered, attempts.Count);
        string host = Uri.TryCreate(webhook.Url, UriKind.Absolute, out Uri? uri) ? uri.Host : "?";
        if (!delivered)
            PostureLog.DeliveryFailed(_logger, webhook.Name, host, item.Event.EventId, attempts.Count);
        WebhookSubscription? after = await _store.RecordDeliveryAsync(item, attempts, delivered, _options.WebhookDisableAfterFailures, _time.GetUtcNow(),
            CancellationToken.None);
        if (after is { Enabled: false } && webhook.Enabled)
            PostureLog.WebhookDisabled(_logger, webhook.Name, host, after.DisabledReason ?? "");
        return after?.Enabled ?? false;
    }
}

/// <summary>Which events a subscription gets: its event types, alert types and lowest severity (empty or null: any).</summary>
public static class WebhookFilter
{
    public static bool Matches(WebhookSubscription webhook, SecurityEventRecord e)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        ArgumentNullException.ThrowIfNull(e);
        if (webhook.EventTypes.Count > 0 && !webhook.EventTypes.Contains(e.Type, StringComparer.OrdinalIgnoreCase))
            return false;
        if (e.AlertType is not null && webhook.AlertTypes.Count > 0 && !webhook.AlertTypes.Contains(e.AlertType, StringComparer.OrdinalIgnoreCase))
            return false;
        return webhook.MinimumSeverity is not Severity minimum || (e.Severity ?? Severity.Informational) >= minimum;
    }
}

/// <summary>
/// The signature headers (the Standard Webhooks scheme): <c>webhook-id</c> (the CloudEvent id: the idempotency key),
/// <c>webhook-timestamp</c> (Unix seconds) and <c>webhook-signature: v1,&lt;base64 HMAC-SHA256(secret, id.timestamp.body)&gt;</c>,
/// the key being the secret's UTF-8 bytes. Receivers recompute it and compare in constant time (docs/posture.md).
/// </summary>
public static class WebhookSignature
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    public static void Sign(HttpRequestHeaders headers, string id, DateTimeOffset at, ReadOnlySpan<byte> body, string secret)
    {
        ArgumentNullException.ThrowIfNull(headers);
        string timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        headers.Add(IdHeader, id);
        headers.Add(TimestampHeader, timestamp);
        headers.Add(SignatureHeader, "v1," + Compute(id, timestamp, body, secret));
    }

    /// <summary>The base64 HMAC-SHA256 over <c>{id}.{timestamp}.{body}</c>.</summary>
    public static string Compute(string id, string timestamp, ReadOnlySpan<byte> body, string secret)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(timestamp);
        ArgumentNullException.ThrowIfNull(secret);
        byte[] prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        byte[] signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>What a receiver does: recompute and compare in constant time.</summary>
    public static bool Verify(string id, string timestamp, ReadOnlySpan<byte> body, string secret, string signatureHeader)
    {
        ArgumentNullException.ThrowIfNull(signatureHeader);
        byte[] expected = Encoding.ASCII.GetBytes("v1," + Compute(id, timestamp, body, secret));
        return signatureHeader.Split(' ').Any(candidate => CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(candidate)));
    }
}
