using System.Diagnostics.Metrics;
using System.Net;
using TrustedLaunch.Cli.Commands.Host;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Host;

/// <summary><c>tl host --metrics-listen</c>: the agent's meters in Prometheus's text format on a listener of its own.</summary>
public sealed class HostMetricsEndpointTests
{
    [Fact]
    public async Task Metrics_ServesTheHostAgentsMeterForPrometheus_OtherPathsNotFound()
    {
        // The host agent's meter by its name, as the relay records into it.
        using var meter = new Meter("TrustedLaunch.HostAgent");
        Counter<long> relayed = meter.CreateCounter<long>("tl.host.attestations", "{attestation}");
        await using HostMetricsEndpoint endpoint = await HostMetricsEndpoint.StartAsync(new Uri("http://127.0.0.1:0"), default);
        relayed.Add(3, new KeyValuePair<string, object?>("outcome", "pass"));
        using var client = new HttpClient { BaseAddress = endpoint.Address };

        using HttpResponseMessage metrics = await client.GetAsync(new Uri(HostMetricsEndpoint.Path, UriKind.Relative));
        string text = await metrics.Content.ReadAsStringAsync();
        using HttpResponseMessage other = await client.GetAsync(new Uri("/v1/hosts", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.StartsWith("text/plain", metrics.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Contains("tl_host_attestations_total{", text, StringComparison.Ordinal);
        Assert.Contains("outcome=\"pass\"", text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1:9465")]
    [InlineData("http://127.0.0.1:9465/metrics")]
    [InlineData("not a url")]
    public void MetricsListen_NotAnHttpAddress_Exit2(string value)
    {
        ToolResult result = TlRun.InProcess("host", "--server", "http://127.0.0.1:9", "--metrics-listen", value);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--metrics-listen must be http://ADDRESS:PORT", result.StandardError, StringComparison.Ordinal);
    }
}
