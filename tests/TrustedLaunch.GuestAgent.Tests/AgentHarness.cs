using System.Collections.Concurrent;
using System.Net.Sockets;
using TrustedLaunch.GuestChannel.Framing;
using TrustedLaunch.GuestChannel.Host;
using TrustedLaunch.GuestChannel.Messages;
using TrustedLaunch.Testing;

namespace TrustedLaunch.GuestAgent.Tests;

/// <summary>The host side of a test: a listening Unix socket where QEMU's would be, and the agent running in-process.</summary>
public sealed class AgentHarness : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Socket? _listener;

    private AgentHarness(string socketPath, AttestationAgent agent, ConcurrentQueue<string> console)
    {
        ConsoleLines = console;
        SocketPath = socketPath;
        Agent = agent;
        Run = Task.Run(() => agent.RunAsync(_stop.Token));
    }

    public string SocketPath { get; }

    public AttestationAgent Agent { get; }

    public Task Run { get; }

    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>The <c>TL-GUEST:</c> lines the agent printed for the console.</summary>
    public ConcurrentQueue<string> ConsoleLines { get; }

    /// <summary>Where the agent stores an opened bound token (a fresh temp folder).</summary>
    public string TokenFile => Agent.Tokens.TokenFile;

    /// <summary>Starts the agent against <paramref name="tcti"/>; the host socket is not listening until <see cref="Listen"/>.</summary>
    public static AgentHarness Start(string tcti, string? kernelLog = null, TimeSpan? heartbeat = null, bool listen = true, string? systemRoot = null)
    {
        string socket = Path.Combine(RepositoryPaths.NewTempDirectory("tl-agent-host"), "agent.sock");
        var log = new ConcurrentQueue<string>();
        var options = new AgentOptions
        {
            Channel = "unix:" + socket,
            Tpm = tcti,
            KernelLog = kernelLog,
            SystemRoot = systemRoot ?? GuestRoot.Create(),
            HeartbeatInterval = heartbeat ?? TimeSpan.FromSeconds(30),
            InitialBackoff = TimeSpan.FromMilliseconds(100),
            MaxBackoff = TimeSpan.FromMilliseconds(500),
            TokenFile = Path.Combine(RepositoryPaths.NewTempDirectory("tl-agent-run"), "tl", "attestation-token.jwt"),
        };
        var console = new ConcurrentQueue<string>();
        var harness = new AgentHarness(socket, new AttestationAgent(options, log: log.Enqueue, console: console.Enqueue), console);
        foreach (string line in log)
            harness.Log.Enqueue(line);
        if (listen)
            harness.Listen();
        return harness;
    }

    public void Listen()
    {
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(4);
    }

    /// <summary>Waits for the agent to connect and wraps it in the host-side connection.</summary>
    public async Task<GuestAgentConnection> AcceptAsync(TimeSpan? timeout = null) =>
        GuestAgentConnection.Over(new NetworkStream(await AcceptSocketAsync(timeout), ownsSocket: true));

    /// <summary>Waits for the agent to connect and returns the raw frames (for malformed-input tests).</summary>
    public async Task<GuestFrameChannel> AcceptFramesAsync(TimeSpan? timeout = null) =>
        new(new NetworkStream(await AcceptSocketAsync(timeout), ownsSocket: true));

    /// <summary>Waits for the agent to connect and returns the raw byte stream.</summary>
    public async Task<Stream> AcceptStreamAsync(TimeSpan? timeout = null) => new NetworkStream(await AcceptSocketAsync(timeout), ownsSocket: true);

    private async Task<Socket> AcceptSocketAsync(TimeSpan? timeout)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        return await _listener!.AcceptAsync(cts.Token);
    }

    /// <summary>The next message on raw frames that satisfies <paramref name="match"/>, skipping heartbeats and findings.</summary>
    public static async Task<GuestMessage> NextAsync(GuestFrameChannel frames, Func<GuestMessage, bool> match, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            byte[] payload = await frames.ReadAsync(cts.Token) ?? throw new EndOfStreamException("agent closed the channel");
            GuestMessage message = GuestMessageCodec.Decode(payload);
            if (match(message))
                return message;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener?.Dispose();
        try
        {
            await Run.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            Agent.Dispose();
            _stop.Dispose();
        }
    }
}
