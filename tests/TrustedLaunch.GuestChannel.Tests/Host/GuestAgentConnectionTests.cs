using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestChannel.Framing;
using TrustedLaunch.GuestChannel.Host;
using TrustedLaunch.GuestChannel.Messages;
using TrustedLaunch.Testing;

namespace TrustedLaunch.GuestChannel.Tests.Host;

/// <summary>
/// The host end against a peer that speaks the wire format by hand (a listening Unix socket, as QEMU offers), so each
/// reply — late, wrong, interleaved, absent — is under the test's control. The real agent is in GuestAgent.Tests.
/// </summary>
public sealed class GuestAgentConnectionTests
{
    private sealed class Peer : IAsyncDisposable
    {
        private readonly Socket _listener;
        private Socket? _accepted;

        private Peer(string path, Socket listener)
        {
            Path = path;
            _listener = listener;
        }

        public string Path { get; }

        public GuestFrameChannel Frames { get; private set; } = null!;

        public static Peer Listen()
        {
            string path = System.IO.Path.Combine(RepositoryPaths.NewTempDirectory("tl-channel"), "agent.sock");
            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
            return new Peer(path, listener);
        }

        public async Task<GuestAgentConnection> ConnectAsync()
        {
            Task<Socket> accept = _listener.AcceptAsync();
            GuestAgentConnection connection = await GuestAgentConnection.ConnectAsync(Path);
            _accepted = await accept;
            Frames = new GuestFrameChannel(new NetworkStream(_accepted, ownsSocket: false));
            return connection;
        }

        public async Task<GuestMessage> ReceiveAsync() => GuestMessageCodec.Decode((await Frames.ReadAsync())!);

        public ValueTask SendAsync(GuestMessage message) => Frames.WriteAsync(GuestMessageCodec.Encode(message));

        public async Task SendBytesAsync(byte[] bytes) => await _accepted!.SendAsync(bytes);

        public void Close() => _accepted?.Shutdown(SocketShutdown.Both);

        public async ValueTask DisposeAsync()
        {
            if (Frames is not null)
                await Frames.DisposeAsync();
            _accepted?.Dispose();
            _listener.Dispose();
        }
    }

    [Fact]
    public async Task RequestEvidenceAsync_ReplyAfterUnsolicitedMessages_PairsByIdAndRecordsTheRest()
    {
        await using var peer = Peer.Listen();
        await using GuestAgentConnection connection = await peer.ConnectAsync();
        byte[] nonce = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        Task<AttestationEvidence> request = connection.RequestEvidenceAsync(nonce, TimeSpan.FromSeconds(10));
        var attest = Assert.IsType<AttestRequest>(await peer.ReceiveAsync());
        Assert.Equal(nonce, attest.Nonce);
        Assert.Null(attest.Pcrs);
        var finding = new GuestFinding { Kind = GuestFinding.Kinds.ModuleRejected, Module = "ttyprintk", Message = "Loading of unsigned module is rejected", At = DateTimeOffset.UnixEpoch };
        await peer.SendAsync(new HeartbeatMessage(null, HeartbeatStatus.Ready, 1, "1.0.0"));
        await peer.SendAsync(new FindingMessage(finding));
        await peer.SendAsync(new EvidenceMessage(attest.RequestId + 100, SampleEvidence.Create())); // someone else's id: ignored
        await peer.SendAsync(new EvidenceMessage(attest.RequestId, SampleEvidence.Create(nonce)));
        AttestationEvidence evidence = await request;
        Assert.Equal(nonce, evidence.Nonce);
        Assert.Equal(finding, Assert.Single(connection.Findings));
        Assert.Equal(HeartbeatStatus.Ready, Assert.Single(connection.Heartbeats).Status);
        Assert.NotNull(connection.LastHeardFrom);
    }

    [Fact]
    public async Task DeliverTokenAsync_SendsTokenWithKeys_ReturnsStoredOrTheRejection()
    {
        await using var peer = Peer.Listen();
        await using GuestAgentConnection connection = await peer.ConnectAsync();
        const string jwe = "h.k.i.c.t";
        const string jwks = """{"keys":[]}""";
        Task<TokenStoredMessage> delivery = connection.DeliverTokenAsync(jwe, jwks, TimeSpan.FromSeconds(10));
        var token = Assert.IsType<TokenMessage>(await peer.ReceiveAsync());
        Assert.Equal((jwe, jwks), (token.Token, token.Jwks));
        var expires = new DateTimeOffset(2026, 12, 6, 2, 0, 0, TimeSpan.Zero);
        await peer.SendAsync(new TokenStoredMessage(token.RequestId, "kid", expires, "/run/tl/attestation-token.jwt"));
        Assert.Equal(expires, (await delivery).Expires);

        Task<TokenStoredMessage> refused = connection.DeliverTokenAsync(jwe, null, TimeSpan.FromSeconds(10));
        GuestMessage second = await peer.ReceiveAsync();
        await peer.SendAsync(new ErrorMessage(second.Id, GuestErrorCodes.TokenRejected, "TPM2_RSA_Decrypt: TPM_RC_POLICY_FAIL"));
        Assert.Equal(GuestErrorCodes.TokenRejected, (await Assert.ThrowsAsync<GuestAgentErrorException>(() => refused)).Code);
    }

    [Fact]
    public async Task RequestEvidenceAsync_BindToken_AsksForTheBoundKey()
    {
        await using var peer = Peer.Listen();
        await using GuestAgentConnection connection = await peer.ConnectAsync();
        _ = connection.RequestEvidenceAsync(new byte[16], TimeSpan.FromSeconds(2), bindToken: true);
        Assert.True(Assert.IsType<AttestRequest>(await peer.ReceiveAsync()).BindToken);
    }

    [Fact]
    public async Task RequestEvidenceAsync_NoAnswer_ThrowsUnresponsiveAfterTheTimeout()
    {
        await using var peer = Peer.Listen();
        await using GuestAgentConnection connection = await peer.ConnectAsync();
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<GuestAgentUnresponsiveException>(() => connection.RequestEvidenceAsync(new byte[16], TimeSpan.FromMilliseconds(400)));
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(350), TimeSpan.FromSeconds(5));
        Assert.IsType<AttestRequest>(await peer.ReceiveAsync()); // the request did go out
    }

    [Fact]
    public async Task RequestEvidenceAsync_FirstRequestLost_SentAgainWithTheSameIdAndTheFirstAnswerWins()
    {
        await using var peer = Peer.Listen();
        await using GuestAgentConnection connection = await peer.ConnectAsync();
        connection.ResendUnansweredAfter = TimeSpan.FromMilliseconds(300);
        byte[] nonce = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        Task<AttestationEvidence> request = connection.RequestEvidenceAsync(nonce, TimeSpan.FromSeconds(10));

        var lost = Assert.IsType<AttestRequest>(await peer.ReceiveAsync()); // a guest kernel dropped this one
        var again = Assert.IsType<AttestRequest>(await peer.ReceiveAsync());
        await peer.SendAsync(new EvidenceMessage(again.RequestId, SampleEvidence.Create(nonce)));
        await peer.SendAsync(new EvidenceMessage(again.RequestId, SampleEvidence.Create(nonce))); // a late second answer: ignored

        Assert.Equal(lost.RequestId, again.RequestId);
        Assert.Equal(lost.Nonce, again.Nonce);
        Assert.Equal(nonce, (await request).Nonce);
        Assert.InRange(connection.RequestsResent, 1, 2);
        Assert.Equal(0, connection.MalformedMessages);
    }

    [Fact]
    public async Task RequestEvidenceAsync_ResendingAndStillNoAnswer_ThrowsUnresponsiveAtTheDeadline()
    {
        await using var peer = Peer.Listen();
        await using GuestAgentConnection connection = await peer.ConnectAsync();
        connection.ResendUnansweredAfter = TimeSpan.FromMilliseconds(150);
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<GuestAgentUnresponsiveException>(() => connection.RequestEvidenceAsync(new byte[16], TimeSpan.FromMilliseconds(700)));
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(650), TimeSpan.FromSeconds(5));
        Assert.InRange(connection.RequestsResent, 2, 4);
    }

    [Fact]
    public async Task RequestEvidenceAsync_ErrorAnswer_ThrowsWithTheAgentsCode()
    {
        await using var peer = Peer.Listen();
        await using GuestAgentConnection connection = await peer.ConnectAsync();
        Task<AttestationEvidence> request = connection.RequestEvidenceAsync(new byte[16], TimeSpan.FromSeconds(10));
        GuestMessage attest = await peer.ReceiveAsync();
        await peer.SendAsync(new ErrorMessage(attest.Id, GuestErrorCodes.TpmUnavailable, "Cannot open TPM device /dev/tpmrm0"));
        var e = await Assert.ThrowsAsync<GuestAgentErrorException>(() => request);
        Assert.Equal(GuestErrorCodes.TpmUnavailable, e.Code);
    }

    [Fact]
    public async Task RequestEvidenceAsync_MalformedEvidence_ThrowsEvidenceFormatNamingTheField()
    {
        await using var peer = Peer.Listen();
        await using GuestAgentConnection connection = await peer.ConnectAsync();
        Task<AttestationEvidence> request = connection.RequestEvidenceAsync(new byte[16], TimeSpan.FromSeconds(10));
        GuestMessage attest = await peer.ReceiveAsync();
        string evidence = Encoding.UTF8.GetString(EvidenceJson.Serialize(SampleEvidence.Create())).Replace("\"sha256\"", "\"md5\"", StringComparison.Ordinal);
        await peer.Frames.WriteAsync(Encoding.UTF8.GetBytes($$"""{"type":"evidence","id":{{attest.Id}},"evidence":{{evidence}}}"""));
        var e = await Assert.ThrowsAsync<EvidenceFormatException>(() => request);
        Assert.Contains("bank", e.Field, StringComparison.Ordinal);
        Assert.Equal(1, connection.MalformedMessages);
    }

    [Fact]
    public async Task RequestEvidenceAsync_PeerClosesMidRequest_ThrowsUnresponsiveAtOnce()
    {
        await using var peer = Peer.Listen();
        await using GuestAgentConnection connection = await peer.ConnectAsync();
        Task<AttestationEvidence> request = connection.RequestEvidenceAsync(new byte[16], TimeSpan.FromSeconds(30));
        await peer.ReceiveAsync();
        var watch = Stopwatch.StartNew();
        peer.Close();
        await Assert.ThrowsAsync<GuestAgentUnresponsiveException>(() => request);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "closing should fail the request, not wait for the timeout");
        await Assert.ThrowsAsync<GuestAgentUnresponsiveException>(() => connection.PingAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Completion_PeerSendsOversizedFrame_FaultsWithOversized()
    {
        await using var peer = Peer.Listen();
        await using GuestAgentConnection connection = await peer.ConnectAsync();
        await peer.Frames.WriteAsync("x"u8.ToArray()); // a valid frame, invalid JSON: skipped and counted
        await peer.SendBytesAsync([0x7F, 0xFF, 0xFF, 0xFF]);
        var e = await Assert.ThrowsAsync<GuestChannelException>(() => connection.Completion.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(GuestChannelError.Oversized, e.Error);
        Assert.Equal(1, connection.MalformedMessages);
    }

    [Fact]
    public async Task ConnectAsync_NoSocket_ThrowsUnresponsive()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory("tl-channel"), "absent.sock");
        await Assert.ThrowsAsync<GuestAgentUnresponsiveException>(() => GuestAgentConnection.ConnectAsync(path));
    }
}
