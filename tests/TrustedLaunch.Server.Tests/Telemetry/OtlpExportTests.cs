using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TrustedLaunch.Server.Telemetry;
using TrustedLaunch.Server.Tests.Http;

namespace TrustedLaunch.Server.Tests.Telemetry;

/// <summary>
/// The service exporting to an OpenTelemetry collector over OTLP (http/protobuf): a receiver on loopback takes what the
/// SDK posts to <c>/v1/traces</c> and <c>/v1/metrics</c>. The request's trace id (16 raw bytes in the protobuf), the
/// service's name and its span and instrument names are found in the bodies; the providers flush when the service stops.
/// </summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task Otlp_HttpProtobuf_SpansOfTheCallersTraceAndMetricsArrive()
    {
        await using OtlpReceiver collector = await OtlpReceiver.StartAsync();
        ServiceUnderTest service = await ServiceUnderTest.StartAsync(null, o => o with
        {
            Telemetry = new TelemetryOptions { OtlpEndpoint = collector.Url, OtlpProtocol = OtlpProtocol.HttpProtobuf, MetricsPath = null },
        });
        var vmId = Guid.NewGuid();
        byte[] traceId = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);
        try
        {
            await service.RegisterAsync(vmId);
            using var challenge = new HttpRequestMessage(HttpMethod.Post, $"/v1/vms/{vmId}/challenges");
            challenge.Headers.Add("traceparent", $"00-{Convert.ToHexStringLower(traceId)}-00f067aa0ba902b7-01");
            // A client that sends the header as given: this process's HttpClients are traced (the service listens to them),
            // and a traced client would put its own trace context on the request.
            using var client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = service.BaseAddress };
            using HttpResponseMessage issued = await client.SendAsync(challenge);
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await service.Client.GetAsync(new Uri("/metrics", UriKind.Relative))).StatusCode); // no scraping endpoint
        }
        finally
        {
            await service.DisposeAsync(); // stopping flushes the batched spans and the last metrics
        }

        byte[] traces = collector.Bodies("/v1/traces");
        Assert.True(traces.AsSpan().IndexOf(traceId) >= 0, $"the caller's trace id is in no exported span; received: {collector}");
        Assert.Contains("tl-server", Encoding.UTF8.GetString(traces), StringComparison.Ordinal);
        Assert.Contains("TrustedLaunch.Attestation", Encoding.UTF8.GetString(traces), StringComparison.Ordinal);
        Assert.Contains("tl.nonces.issued", Encoding.UTF8.GetString(collector.Bodies("/v1/metrics")), StringComparison.Ordinal);
        Assert.All(collector.ContentTypes, t => Assert.Equal("application/x-protobuf", t));
    }

    /// <summary>An OTLP/HTTP endpoint that keeps every body it is sent.</summary>
    private sealed class OtlpReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<(string Path, string? ContentType, byte[] Body)> _received = new();

        private OtlpReceiver(WebApplication app) => _app = app;

        public Uri Url { get; private set; } = null!;

        public IEnumerable<string?> ContentTypes => _received.Select(r => r.ContentType);

        public override string ToString() => string.Join(", ", _received.Select(r => $"{r.Path} {r.ContentType} {r.Body.Length} bytes"));

        public byte[] Bodies(string path) => _received.Where(r => r.Path == path).SelectMany(r => r.Body).ToArray();

        public static async Task<OtlpReceiver> StartAsync()
        {
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            WebApplication app = builder.Build();
            var receiver = new OtlpReceiver(app);
            app.MapPost("/v1/{signal}", async (HttpContext context) =>
            {
                using var buffer = new MemoryStream();
                await context.Request.Body.CopyToAsync(buffer);
                receiver._received.Enqueue((context.Request.Path.Value!, context.Request.ContentType, buffer.ToArray()));
                return Results.Ok();
            });
            await app.StartAsync();
            receiver.Url = new Uri(app.Urls.First());
            return receiver;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
