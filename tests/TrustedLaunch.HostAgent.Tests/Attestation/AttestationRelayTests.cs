using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TrustedLaunch.GuestChannel;
using TrustedLaunch.GuestChannel.Framing;
using TrustedLaunch.GuestChannel.Messages;
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

    private static (Socket Listener, string Path) AgentPort()
    {
        string socket = Path.Combine(RepositoryPaths.NewTempDirectory("tl-relay-sock"), "agent.sock");
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socket));
        listener.Listen(4);
        return (listener, socket);
    }

    /// <summary>Plays an agent on an accepted connection: opens the session with a heartbeat, then answers every request with <paramref name="answer"/> (or nothing).</summary>
    private static async Task ServeAgentAsync(Socket connection, Func<GuestMessage, GuestMessage?> answer)
    {
        await using var frames = new GuestFrameChannel(new NetworkStream(connection, ownsSocket: true));
        await frames.WriteAsync(GuestMessageCodec.Encode(new HeartbeatMessage(null, HeartbeatStatus.Ready, 1, "test")));
        while (await frames.ReadAsync() is byte[] payload)
        {
            if (answer(GuestMessageCodec.Decode(payload)) is GuestMessage reply)
                await frames.WriteAsync(GuestMessageCodec.Encode(reply));
        }
    }

    [Fact]
    public async Task Attest_AgentOpensItsSessionAndNeverAnswers_RecordedAgentUnresponsive()
    {
        Guid vmId = await RegisteredVmAsync();
        var (listener, socket) = AgentPort();
        using var _ = listener;
        Task agent = Task.Run(async () => await ServeAgentAsync(await listener.AcceptAsync(), _ => null));
        using ControlPlaneClient client = Client();
        await using var relay = new AttestationRelay(vmId, socket, client, TimeSpan.FromSeconds(1), NullLogger.Instance);

        string outcome = await relay.AttestAsync(default);

        AttestationRecord? latest = await LatestAsync(vmId);
        Assert.Equal("AgentUnresponsive", outcome);
        Assert.Equal(AttestationVerdict.Fail, latest?.Verdict);
        Assert.Equal("AgentUnresponsive", latest?.Reason);
        Assert.Contains("no answer within 1 s", latest?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Attest_PortAcceptsButNoAgentEverSpeaks_RecordedAgentUnresponsiveAfterReconnecting()
    {
        Guid vmId = await RegisteredVmAsync();
        var (listener, socket) = AgentPort();
        using var _ = listener;
        var accepted = new List<Socket>();
        Task accepting = Task.Run(async () =>
        {
            while (true)
                accepted.Add(await listener.AcceptAsync());
        });
        using ControlPlaneClient client = Client();
        await using var relay = new AttestationRelay(vmId, socket, client, TimeSpan.FromSeconds(1.5), NullLogger.Instance, handshake: TimeSpan.FromMilliseconds(400));

        string outcome = await relay.AttestAsync(default);

        Assert.Equal("AgentUnresponsive", outcome);
        Assert.Contains("did not open its session within 2 s", (await LatestAsync(vmId))?.Message, StringComparison.Ordinal);
        Assert.True(accepted.Count >= 3, $"{accepted.Count} connection(s): a silent connection must be made again");
        foreach (Socket connection in accepted)
            connection.Dispose();
    }

    [Fact]
    public async Task Attest_FirstConnectionSilent_TheRelayConnectsAgainAndTheAgentOnTheNewOneAnswers()
    {
        Guid vmId = await RegisteredVmAsync();
        var (listener, socket) = AgentPort();
        using var _ = listener;
        var requests = new List<string>();
        Task agent = Task.Run(async () =>
        {
            using Socket silent = await listener.AcceptAsync(); // the port QEMU accepted while the guest saw no host
            await ServeAgentAsync(await listener.AcceptAsync(), request =>
            {
                lock (requests)
                    requests.Add(request.Type);
                return new ErrorMessage(request.Id, GuestErrorCodes.TpmUnavailable, "no /dev/tpmrm0 in this test guest");
            });
        });
        using ControlPlaneClient client = Client();
        await using var relay = new AttestationRelay(vmId, socket, client, TimeSpan.FromSeconds(10), NullLogger.Instance, handshake: TimeSpan.FromMilliseconds(300));

        string outcome = await relay.AttestAsync(default);

        // The request reached the agent on the second connection, and its own answer (not silence) is what was recorded.
        Assert.Equal("AgentUnresponsive", outcome);
        Assert.Equal(["attest"], requests);
        string? recorded = (await LatestAsync(vmId))?.Message;
        Assert.Contains("the agent answered with an error", recorded, StringComparison.Ordinal);
        Assert.Contains("no /dev/tpmrm0 in this test guest", recorded, StringComparison.Ordinal);
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
