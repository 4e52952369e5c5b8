using System.Collections.Concurrent;
using System.Net.Sockets;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestChannel.Framing;
using TrustedLaunch.GuestChannel.Messages;

namespace TrustedLaunch.GuestChannel.Host;

/// <summary>
/// The host end of one guest's channel: connects to the Unix socket QEMU serves for the VM's
/// <c>org.trustedlaunch.agent.0</c> port, sends requests, pairs replies by id, and records the heartbeats and findings
/// the agent sends on its own. A malformed message from the guest is counted and skipped; a broken frame ends the
/// connection (the byte stream cannot be resynchronized) and fails every pending request as unresponsive.
/// </summary>
public sealed class GuestAgentConnection : IAsyncDisposable
{
    private const int HeartbeatHistory = 64;
    private readonly GuestFrameChannel _frames;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, TaskCompletionSource<GuestMessage>> _pending = new();
    private readonly Lock _gate = new();
    private readonly List<HeartbeatMessage> _heartbeats = [];
    private readonly List<GuestFinding> _findings = [];
    private readonly TaskCompletionSource<bool> _heardFrom = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _readLoop;
    private long _nextId;
    private int _malformedMessages;
    private int _requestsResent;
    private Exception? _closedBecause;

    private GuestAgentConnection(Stream stream, TimeProvider time)
    {
        Time = time;
        _frames = new GuestFrameChannel(stream);
        _readLoop = Task.Run(ReadLoopAsync);
    }

    public TimeProvider Time { get; }

    /// <summary>Raised on the reader task for every heartbeat (including ping answers).</summary>
    public event Action<HeartbeatMessage>? HeartbeatReceived;

    /// <summary>Raised on the reader task for every finding message.</summary>
    public event Action<GuestFinding>? FindingReceived;

    /// <summary>The last heartbeats received (at most 64, oldest first).</summary>
    public IReadOnlyList<HeartbeatMessage> Heartbeats
    {
        get
        {
            lock (_gate)
                return [.. _heartbeats];
        }
    }

    /// <summary>Every finding message received while connected, in arrival order.</summary>
    public IReadOnlyList<GuestFinding> Findings
    {
        get
        {
            lock (_gate)
                return [.. _findings];
        }
    }

    /// <summary>
    /// Sends a request again, with the same id, when no answer came within this time (null: never). A guest kernel drops
    /// what QEMU queued for a port whose file is being released (drivers/char/virtio_console.c, port_fops_release →
    /// discard_port_data), which happens when the agent's previous session ends while a new host connects: the request
    /// is lost, not refused. Every request is idempotent (an attestation's nonce is spent only when its evidence is
    /// posted), the first answer wins and a later one with the same id is ignored.
    /// </summary>
    public TimeSpan? ResendUnansweredAfter { get; set; }

    /// <summary>Requests sent again under <see cref="ResendUnansweredAfter"/>.</summary>
    public int RequestsResent => Volatile.Read(ref _requestsResent);

    /// <summary>When the agent last sent anything.</summary>
    public DateTimeOffset? LastHeardFrom { get; private set; }

    /// <summary>Messages from the guest that were not valid and were skipped.</summary>
    public int MalformedMessages => Volatile.Read(ref _malformedMessages);

    /// <summary>Completes when the channel closes; faults with the frame error that closed it.</summary>
    public Task Completion => _readLoop;

    /// <summary>Connects to the VM's agent socket (QEMU is the server; a guest need not be listening yet).</summary>
    public static async Task<GuestAgentConnection> ConnectAsync(string unixSocketPath, CancellationToken cancellationToken = default) =>
        await ConnectAsync(unixSocketPath, TimeProvider.System, cancellationToken).ConfigureAwait(false);

    public static async Task<GuestAgentConnection> ConnectAsync(string unixSocketPath, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(unixSocketPath);
        ArgumentNullException.ThrowIfNull(time);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(unixSocketPath), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new GuestAgentUnresponsiveException($"Cannot connect to the guest agent socket {unixSocketPath}: {e.Message}", e);
        }

        return new GuestAgentConnection(new NetworkStream(socket, ownsSocket: true), time);
    }

    /// <summary>Wraps an already connected stream (a test pipe, or a relayed channel).</summary>
    public static GuestAgentConnection Over(Stream stream, TimeProvider? time = null) => new(stream, time ?? TimeProvider.System);

    /// <summary>
    /// Waits until the agent has sent anything on this connection: it opens every session with a heartbeat, so a connection
    /// that stays silent past a few of the agent's reconnect periods has no agent behind it. False when
    /// <paramref name="timeout"/> passes or the channel closes first. A <c>connect()</c> to QEMU's socket succeeds whatever
    /// the guest's side of the port is doing; this is how a host learns the session is real before it sends a request.
    /// </summary>
    public async Task<bool> WaitForAgentAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _heardFrom.Task.WaitAsync(timeout, Time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// Asks for evidence over PCRs 0–9 and 14 in every active bank with <paramref name="nonce"/>. Throws
    /// <see cref="GuestAgentUnresponsiveException"/> when no answer comes within <paramref name="timeout"/> or the channel
    /// closes, <see cref="GuestAgentErrorException"/> for an <c>error</c> answer, and <see cref="EvidenceFormatException"/>
    /// when the evidence is not well-formed. With <paramref name="bindToken"/> the evidence carries a certified PCR-bound
    /// key, so the service's token comes back encrypted to the vTPM (hand it over with <see cref="DeliverTokenAsync"/>).
    /// </summary>
    public async Task<AttestationEvidence> RequestEvidenceAsync(ReadOnlyMemory<byte> nonce, TimeSpan timeout,
        IReadOnlyList<int>? pcrs = null, bool bindToken = false, CancellationToken cancellationToken = default)
    {
        long id = Interlocked.Increment(ref _nextId);
        GuestMessage reply = await RequestAsync(new AttestRequest(id, nonce.ToArray(), pcrs, bindToken), timeout, cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            EvidenceMessage evidence => evidence.Evidence,
            _ => throw new GuestAgentErrorException("malformed-message", $"Expected evidence, got '{reply.Type}'."),
        };
    }

    /// <summary>
    /// Hands a bound token (JWE) to the guest with the service's JWK Set; returns the agent's <c>tokenStored</c> answer.
    /// An agent that cannot open or verify it answers <c>token-rejected</c> (<see cref="GuestAgentErrorException"/>).
    /// </summary>
    public async Task<TokenStoredMessage> DeliverTokenAsync(string token, string? jwks, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        long id = Interlocked.Increment(ref _nextId);
        GuestMessage reply = await RequestAsync(new TokenMessage(id, token, jwks), timeout, cancellationToken).ConfigureAwait(false);
        return reply as TokenStoredMessage ?? throw new GuestAgentErrorException("malformed-message", $"Expected tokenStored, got '{reply.Type}'.");
    }

    /// <summary>Sends a ping and returns the heartbeat that answers it.</summary>
    public async Task<HeartbeatMessage> PingAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        long id = Interlocked.Increment(ref _nextId);
        GuestMessage reply = await RequestAsync(new PingRequest(id), timeout, cancellationToken).ConfigureAwait(false);
        return reply as HeartbeatMessage ?? throw new GuestAgentErrorException("malformed-message", $"Expected a heartbeat, got '{reply.Type}'.");
    }

    /// <summary>Sends one raw frame payload (for tests of the agent's handling of bad input).</summary>
    public ValueTask SendRawAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default) =>
        _frames.WriteAsync(payload, cancellationToken);

    private async Task<GuestMessage> RequestAsync(GuestMessage request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long id = request.Id!.Value;
        var reply = new TaskCompletionSource<GuestMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            if (_closedBecause is not null)
                throw new GuestAgentUnresponsiveException($"The guest channel is closed: {_closedBecause.Message}", _closedBecause);
            using var timeoutSource = new CancellationTokenSource(timeout, Time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeoutSource.Token, cancellationToken);
            try
            {
                byte[] frame = GuestMessageCodec.Encode(request);
                await _frames.WriteAsync(frame, linked.Token).ConfigureAwait(false);
                GuestMessage answer = await AnswerAsync(reply.Task, frame, linked.Token).ConfigureAwait(false);
                return answer is ErrorMessage error ? throw new GuestAgentErrorException(error.Code, error.Message) : answer;
            }
            catch (OperationCanceledException) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new GuestAgentUnresponsiveException($"The guest agent did not answer '{request.Type}' (id {id}) within {timeout.TotalSeconds:0.###} s.");
            }
            catch (IOException e)
            {
                throw new GuestAgentUnresponsiveException($"The guest channel failed while sending '{request.Type}': {e.Message}", e);
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task<GuestMessage> AnswerAsync(Task<GuestMessage> answer, byte[] frame, CancellationToken cancellationToken)
    {
        while (ResendUnansweredAfter is TimeSpan resend)
        {
            try
            {
                return await answer.WaitAsync(resend, Time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Interlocked.Increment(ref _requestsResent);
                await _frames.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
            }
        }

        return await answer.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                byte[]? payload = await _frames.ReadAsync(_stop.Token).ConfigureAwait(false);
                if (payload is null)
                    throw new GuestAgentUnresponsiveException("The guest channel was closed by the other end.");
                LastHeardFrom = Time.GetUtcNow();
                _heardFrom.TrySetResult(true);
                Dispatch(payload);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            Close(new GuestAgentUnresponsiveException("The guest channel was closed by the host."));
        }
        catch (Exception e) when (e is GuestChannelException or IOException or ObjectDisposedException)
        {
            Close(e);
            if (!_stop.IsCancellationRequested)
                throw;
        }
    }

    private void Dispatch(byte[] payload)
    {
        GuestMessage message;
        try
        {
            message = GuestMessageCodec.Decode(payload);
        }
        catch (GuestChannelException e)
        {
            Interlocked.Increment(ref _malformedMessages);
            // Evidence that does not parse still answers its request: the caller learns it is malformed, not that the agent is silent.
            if (e.MessageId is long id && _pending.TryGetValue(id, out var waiting))
                waiting.TrySetException(e.InnerException is EvidenceFormatException evidenceError ? evidenceError : e);
            return;
        }

        switch (message)
        {
            case HeartbeatMessage heartbeat:
                lock (_gate)
                {
                    _heartbeats.Add(heartbeat);
                    if (_heartbeats.Count > HeartbeatHistory)
                        _heartbeats.RemoveAt(0);
                }

                HeartbeatReceived?.Invoke(heartbeat);
                break;
            case FindingMessage finding:
                lock (_gate)
                    _findings.Add(finding.Finding);
                FindingReceived?.Invoke(finding.Finding);
                return;
        }

        if (message.Id is long replyTo && _pending.TryGetValue(replyTo, out var request))
            request.TrySetResult(message);
    }

    private void Close(Exception reason)
    {
        _closedBecause ??= reason;
        _heardFrom.TrySetResult(false);
        foreach (var pending in _pending.Values)
            pending.TrySetException(new GuestAgentUnresponsiveException($"The guest channel closed: {reason.Message}", reason));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _frames.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        catch (Exception e) when (e is GuestChannelException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // Already recorded by Close; disposing is not the place to report a broken channel.
        }

        _stop.Dispose();
    }
}
