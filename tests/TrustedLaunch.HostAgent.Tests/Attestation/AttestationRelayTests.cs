using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TrustedLaunch.HostAgent.Attestation;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Testing;

namespace TrustedLaunch.HostAgent.Tests.Attestation;

/// <summary>
/// The relay against the real attestation service (in process, on loopback): a guest agent that takes the challenge and
/// never answers, or a port nobody serves, is recorded as AgentUnresponsive with what happened; an unknown VM is the
/// service's refusal, not the guest's fault.
/// </summary>
public sealed class AttestationRelayTests : IAsyncLifetime
{
    private readonly string _data = RepositoryPaths.NewTempDirectory("tl-relay");
    private WebApplication _app = null!;

    public async Task InitializeAsync()
    {
        _app = AttestationServiceHost.Build(new AttestationServiceOptions { DataDirectory = _data, Listen = "http://127.0.0.1:0" }, configureLogging: _ => { });
        await _app.StartAsync();
    }

    private ControlPlaneClient Client() => new(new Uri(AttestationServiceHost.BoundAddresses(_app.Services)[0] + "/"));

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private async Task<Guid> RegisteredVmAsync()
    {
        var vmId = Guid.NewGuid();
        Assert.True(await _app.Services.GetRequiredService<IVmRegistry>().RegisterAsync(new RegisteredVm(vmId, null, DateTimeOffset.UtcNow), default));
        return vmId;
    }

    private async Task<AttestationRecord?> LatestAsync(Guid vmId) => await _app.Services.GetRequiredService<IAttestationResultStore>().GetLatestAsync(vmId, default);

    [Fact]
    public async Task Attest_AgentTakesTheChallengeAndNeverAnswers_RecordedAgentUnresponsive()
    {
        Guid vmId = await RegisteredVmAsync();
        string socket = Path.Combine(RepositoryPaths.NewTempDirectory("tl-relay-sock"), "agent.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socket));
        listener.Listen(1);
        Task<Socket> accepted = listener.AcceptAsync();
        using ControlPlaneClient client = Client();
        await using var relay = new AttestationRelay(vmId, socket, client, TimeSpan.FromSeconds(1), NullLogger.Instance);

        string outcome = await relay.AttestAsync(default);
        using Socket guest = await accepted; // the "guest" got the connection (and the challenge) and kept quiet

        AttestationRecord? latest = await LatestAsync(vmId);
        Assert.Equal("AgentUnresponsive", outcome);
        Assert.Equal(AttestationVerdict.Fail, latest?.Verdict);
        Assert.Equal("AgentUnresponsive", latest?.Reason);
        Assert.Contains("no answer within 1 s", latest?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Attest_NoAgentPort_RecordedAgentUnresponsive()
    {
        Guid vmId = await RegisteredVmAsync();
        using ControlPlaneClient client = Client();
        await using var relay = new AttestationRelay(vmId, Path.Combine(_data, "nobody.sock"), client, TimeSpan.FromSeconds(1), NullLogger.Instance);

        string outcome = await relay.AttestAsync(default);

        Assert.Equal("AgentUnresponsive", outcome);
        Assert.Contains("Cannot connect to the guest agent socket", (await LatestAsync(vmId))?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Attest_UnknownVm_TheServiceRefusesTheChallenge()
    {
        using ControlPlaneClient client = Client();
        await using var relay = new AttestationRelay(Guid.NewGuid(), Path.Combine(_data, "nobody.sock"), client, TimeSpan.FromSeconds(1), NullLogger.Instance);

        var e = await Assert.ThrowsAsync<ControlPlaneCallException>(() => relay.AttestAsync(default));

        Assert.Equal(System.Net.HttpStatusCode.NotFound, e.StatusCode);
        Assert.Equal("UnknownVm", e.Code);
    }
}
