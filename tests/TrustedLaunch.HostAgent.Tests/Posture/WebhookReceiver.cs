using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using TrustedLaunch.Server.Posture;

namespace TrustedLaunch.HostAgent.Tests.Posture;

/// <summary>
/// A webhook receiver on a loopback port (<see cref="HttpListener"/>): answers 200 to every POST and keeps each delivery
/// with its CloudEvent and whether its Standard Webhooks signature verifies with the secret.
/// </summary>
internal sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _secret;
    private readonly Task _loop;

    public WebhookReceiver(string secret)
    {
        _secret = secret;
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = $"http://127.0.0.1:{port}/events";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(ReceiveAsync);
    }

    public string Url { get; }

    public ConcurrentQueue<Delivery> Deliveries { get; } = new();

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The listener closed under the loop.
        }
    }

    private async Task ReceiveAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            byte[] raw = body.ToArray();
            string id = context.Request.Headers[WebhookSignature.IdHeader] ?? "";
            string timestamp = context.Request.Headers[WebhookSignature.TimestampHeader] ?? "";
            string signature = context.Request.Headers[WebhookSignature.SignatureHeader] ?? "";
            bool verified = signature.Length > 0 && WebhookSignature.Verify(id, timestamp, raw, _secret, signature);
            Deliveries.Enqueue(new Delivery(id, verified, context.Request.ContentType, JsonDocument.Parse(raw).RootElement.Clone()));
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }

    /// <summary>One POST: its idempotency id, whether the signature verified, its content type and CloudEvent.</summary>
    public sealed record Delivery(string Id, bool SignatureVerified, string? ContentType, JsonElement CloudEvent)
    {
        public string? Type => CloudEvent.GetProperty("type").GetString();

        public string? Subject => CloudEvent.TryGetProperty("subject", out JsonElement s) ? s.GetString() : null;
    }
}
