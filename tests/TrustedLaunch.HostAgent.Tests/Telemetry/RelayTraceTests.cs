using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TrustedLaunch.HostAgent.Attestation;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Testing;

namespace TrustedLaunch.HostAgent.Tests.Telemetry;

/// <summary>
/// One attestation's trace from the host to the store: the relay's span on the host, the HttpClient request it makes,
/// the service's request span (continued from the W3C <c>traceparent</c> header, not from the test's execution context)
/// and the service's store span all share one trace id. Spans are read with a plain <see cref="ActivityListener"/>, as
/// any exporter would see them.
/// </summary>
public sealed class RelayTraceTests : IAsyncLifetime, IDisposable
{
    private readonly string _data = RepositoryPaths.NewTempDirectory("tl-trace");
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;
    private WebApplication _app = null!;

    public RelayTraceTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "TrustedLaunch.HostAgent" or "TrustedLaunch.Attestation" or "Microsoft.AspNetCore" or "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public async Task InitializeAsync()
    {
        _app = AttestationServiceHost.Build(new AttestationServiceOptions { DataDirectory = _data, Listen = "http://127.0.0.1:0" }, configureLogging: _ => { });
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Relay_OneAttestation_HostServerAndStoreSpansShareTheHostsTraceId()
    {
        var vmId = Guid.NewGuid();
        Assert.True(await _app.Services.GetRequiredService<IVmRegistry>().RegisterAsync(new RegisteredVm(vmId, null, DateTimeOffset.UtcNow), default));
        using var client = new ControlPlaneClient(new Uri(AttestationServiceHost.BoundAddresses(_app.Services)[0] + "/"));
        await using var relay = new AttestationRelay(vmId, Path.Combine(_data, "nobody.sock"), client, TimeSpan.FromSeconds(1), NullLogger.Instance);

        Assert.Equal("AgentUnresponsive", await relay.AttestAsync(default));

        Activity host = Assert.Single(_stopped, a => a.Source.Name == "TrustedLaunch.HostAgent" && Equals(a.GetTagItem("tl.vm.id"), vmId.ToString()));
        ActivityTraceId trace = host.TraceId;
        Activity[] trip = await SpansOfAsync(trace, expected: 2);
        Activity[] outgoing = trip.Where(a => a.Source.Name == "System.Net.Http").ToArray();
        Activity[] incoming = trip.Where(a => a.Source.Name == "Microsoft.AspNetCore").ToArray();
        // Challenge and agent-unresponsive report: two requests out of the host, each answered by a server span whose
        // parent is that request's span (so the link came through the header).
        Assert.Equal(2, outgoing.Length);
        Assert.All(outgoing, o => Assert.Equal(host.SpanId, o.ParentSpanId));
        Assert.Equal(2, incoming.Length);
        Assert.All(incoming, i => Assert.Contains(outgoing, o => o.SpanId == i.ParentSpanId));
        Assert.All(incoming, i => Assert.True(i.HasRemoteParent));
        // The service's store steps (nonce saved, result recorded) are in the same trace, under its request spans.
        Activity[] stores = trip.Where(a => a.Source.Name == "TrustedLaunch.Attestation" && a.OperationName == "store").ToArray();
        Assert.Equal(2, stores.Length);
        Assert.All(stores, s => Assert.Contains(incoming, i => i.SpanId == s.ParentSpanId));
        Assert.Equal("AgentUnresponsive", host.GetTagItem("tl.outcome"));
    }

    // The server's spans stop when its responses are written, which can be just after the client has read them.
    private async Task<Activity[]> SpansOfAsync(ActivityTraceId trace, int expected)
    {
        for (int i = 0; i < 50; i++)
        {
            Activity[] spans = _stopped.Where(a => a.TraceId == trace).ToArray();
            if (spans.Count(a => a.Source.Name == "Microsoft.AspNetCore") >= expected)
                return spans;
            await Task.Delay(100);
        }

        return _stopped.Where(a => a.TraceId == trace).ToArray();
    }
}
