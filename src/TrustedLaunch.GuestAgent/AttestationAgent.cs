using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestAgent.Links;
using TrustedLaunch.GuestAgent.Evidence;
using TrustedLaunch.GuestAgent.KernelLog;
using TrustedLaunch.GuestAgent.Tokens;
using TrustedLaunch.GuestChannel;
using TrustedLaunch.GuestChannel.Framing;
using TrustedLaunch.GuestChannel.Messages;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;

namespace TrustedLaunch.GuestAgent;

/// <summary>
/// The agent's main loop: reach the host (with backoff while it is absent), then serve one session: a heartbeat and
/// every finding so far on connect, a heartbeat each interval, findings as they appear, and answers to requests. A
/// malformed request gets an <c>error</c> and the session goes on; a broken frame or a closed channel ends the session
/// and the agent reconnects. Nothing the host sends makes the agent exit.
/// </summary>
public sealed class AttestationAgent : IDisposable
{
    private readonly AgentOptions _options;
    private readonly HostLink _link;
    private readonly TimeProvider _time;
    private readonly Action<string> _log;
    private readonly Action<string> _console;
    private readonly long _startTimestamp;
    private readonly SemaphoreSlim _tpmGate = new(1, 1);

    /// <param name="console">
    /// Receives the <c>TL-GUEST: …</c> lines the platform reads from the console (default: stdout, which the image's init
    /// points at /dev/console).
    /// </param>
    public AttestationAgent(AgentOptions options, TimeProvider? time = null, Action<string>? log = null, Action<string>? console = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = time ?? TimeProvider.System;
        _log = log ?? (line => Console.Error.WriteLine($"tl-guest-agent: {line}"));
        _link = HostLink.Parse(options.Channel);
        _startTimestamp = _time.GetTimestamp();
        System = new GuestSystem(options.SystemRoot);
        KernelLog = new KernelLogMonitor(System, _time);
        Collector = new EvidenceCollector(() => TctiSpecification.Open(options.Tpm), System, () => KernelLog.Findings, _time);
        Tokens = new BoundTokenReceiver(() => TctiSpecification.Open(options.Tpm), options.TokenFile, options.TokenJwks, _time);
        _console = console ?? (line =>
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        });
    }

    public BoundTokenReceiver Tokens { get; }

    public GuestSystem System { get; }

    public KernelLogMonitor KernelLog { get; }

    public EvidenceCollector Collector { get; }

    /// <summary>Sessions served so far (a test hook for "reconnected").</summary>
    public int Sessions { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (_options.KernelLog is not null)
            _ = KernelLog.StartAsync(_options.KernelLog, _log);
        TimeSpan backoff = _options.InitialBackoff;
        string? lastAbsence = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var (stream, absent) = await _link.TryOpenAsync(cancellationToken).ConfigureAwait(false);
            if (stream is null)
            {
                if (absent != lastAbsence)
                    _log($"host not reachable on {_link.Description} ({absent}); retrying with backoff up to {_options.MaxBackoff.TotalSeconds:0.#} s");
                lastAbsence = absent;
                await DelayAsync(backoff, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
                continue;
            }

            lastAbsence = null;
            Sessions++;
            bool heardFromHost;
            try
            {
                heardFromHost = await ServeAsync(stream, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A bug must cost a session, not the agent: the platform would see "agent unresponsive" for good.
                _log($"session failed ({e.GetType().Name}: {e.Message}); reconnecting");
                heardFromHost = false;
            }

            if (heardFromHost)
                backoff = _options.InitialBackoff;
            else
                await DelayAsync(backoff, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        // Up to 20 % jitter so many guests restarted together do not reconnect in lockstep.
        double jitter = 1 + (Random.Shared.NextDouble() * 0.2);
        try
        {
            await Task.Delay(delay * jitter, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One session; true when the host sent at least one frame.</summary>
    private async Task<bool> ServeAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var outbox = Channel.CreateUnbounded<GuestMessage>(new UnboundedChannelOptions { SingleReader = true });
        void OnFinding(GuestFinding finding) => outbox.Writer.TryWrite(new FindingMessage(finding));
        bool heard = false;
        await using var frames = new GuestFrameChannel(stream);
        Task writer = WriteLoopAsync(frames, outbox.Reader, session);
        outbox.Writer.TryWrite(Heartbeat(null));
        KernelLog.FindingObserved += OnFinding;
        foreach (GuestFinding finding in KernelLog.Findings)
            outbox.Writer.TryWrite(new FindingMessage(finding));
        using var heartbeats = new PeriodicTimer(_options.HeartbeatInterval, _time);
        Task ticker = HeartbeatLoopAsync(heartbeats, outbox.Writer, session.Token);
        try
        {
            _log($"connected to the host on {_link.Description}");
            while (!session.IsCancellationRequested)
            {
                byte[]? payload = await frames.ReadAsync(session.Token).ConfigureAwait(false);
                if (payload is null)
                {
                    _log("host closed the channel");
                    break;
                }

                heard = true;
                outbox.Writer.TryWrite(await AnswerAsync(payload, session.Token).ConfigureAwait(false));
            }
        }
        catch (GuestChannelException e)
        {
            // The length prefix is unusable, so the byte stream cannot be resynchronized: say why, then start over.
            _log($"unreadable frame from the host ({e.Error}): {e.Message}; reconnecting");
            outbox.Writer.TryWrite(new ErrorMessage(null, GuestErrorCodes.MalformedMessage, e.Message));
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            _log($"channel failed: {e.Message}; reconnecting");
        }
        catch (OperationCanceledException) when (session.IsCancellationRequested)
        {
        }
        finally
        {
            KernelLog.FindingObserved -= OnFinding;
            outbox.Writer.TryComplete();
            await Task.WhenAny(writer, Task.Delay(TimeSpan.FromSeconds(2), _time, CancellationToken.None)).ConfigureAwait(false);
            await session.CancelAsync().ConfigureAwait(false);
            // The port's reads and writes wait in poll() slices (VirtioPortStream), so they end within one slice of the
            // cancellation; a Unix-socket link's are cancelled at once. The bound is a last resort, not the normal path.
            await Task.WhenAny(Task.WhenAll(writer, ticker), Task.Delay(TimeSpan.FromSeconds(5), _time, CancellationToken.None)).ConfigureAwait(false);
        }

        return heard;
    }

    private async Task WriteLoopAsync(GuestFrameChannel frames, ChannelReader<GuestMessage> outbox, CancellationTokenSource session)
    {
        try
        {
            await foreach (GuestMessage message in outbox.ReadAllAsync(session.Token).ConfigureAwait(false))
                await frames.WriteAsync(GuestMessageCodec.Encode(message), session.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or GuestChannelException)
        {
            if (e is not OperationCanceledException)
                _log($"writing to the host failed: {e.Message}");
            await session.CancelAsync().ConfigureAwait(false); // the reader may be blocked; end the session
        }
    }

    private async Task HeartbeatLoopAsync(PeriodicTimer timer, ChannelWriter<GuestMessage> outbox, CancellationToken cancellationToken)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                outbox.TryWrite(Heartbeat(null));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The reply to one request payload: every request is answered, if only with an error.</summary>
    internal async Task<GuestMessage> AnswerAsync(byte[] payload, CancellationToken cancellationToken)
    {
        GuestMessage request;
        try
        {
            request = GuestMessageCodec.Decode(payload);
        }
        catch (GuestChannelException e)
        {
            string code = e.Error == GuestChannelError.UnknownType ? GuestErrorCodes.UnknownType : GuestErrorCodes.MalformedMessage;
            return new ErrorMessage(e.MessageId, code, e.Message);
        }

        switch (request)
        {
            case PingRequest ping:
                return Heartbeat(ping.Id);
            case AttestRequest attest:
                return await AttestAsync(attest, cancellationToken).ConfigureAwait(false);
            case TokenMessage token:
                return await ReceiveTokenAsync(token, cancellationToken).ConfigureAwait(false);
            default:
                return new ErrorMessage(request.Id, GuestErrorCodes.UnknownType, $"'{request.Type}' is not a request the agent serves.");
        }
    }

    private async Task<GuestMessage> AttestAsync(AttestRequest attest, CancellationToken cancellationToken)
    {
        await _tpmGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var watch = Stopwatch.StartNew();
            IReadOnlyList<int> pcrs = attest.Pcrs ?? AttestRequest.DefaultPcrs;
            // Only the bound key's template is kept: it re-creates the key in this TPM (PcrBoundKey.Load) when the token arrives.
            AttestationEvidence evidence = await Task.Run(() =>
            {
                AttestationEvidence collected = Collector.Collect(attest.Nonce, pcrs, attest.BindToken, out PcrBoundKey? key);
                if (key is not null)
                    Tokens.Remember(key);
                return collected;
            }, cancellationToken).ConfigureAwait(false);
            _log($"evidence for request {attest.RequestId}: {evidence.Tpm.Pcrs.Count} bank(s), {evidence.Findings.Count} finding(s), {watch.ElapsedMilliseconds} ms");
            return new EvidenceMessage(attest.RequestId, evidence);
        }
        catch (TpmTransportException e)
        {
            return new ErrorMessage(attest.Id, GuestErrorCodes.TpmUnavailable, e.Message);
        }
        catch (Exception e) when (e is TpmResponseException or TpmFormatException)
        {
            return new ErrorMessage(attest.Id, GuestErrorCodes.TpmFailure, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever else went wrong (an unexpected TPM answer, a file that vanished) is this request's failure only.
            return new ErrorMessage(attest.Id, GuestErrorCodes.Internal, $"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            _tpmGate.Release();
        }
    }

    private async Task<GuestMessage> ReceiveTokenAsync(TokenMessage token, CancellationToken cancellationToken)
    {
        await _tpmGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            TokenStoredMessage stored = await Task.Run(() => Tokens.Receive(token), cancellationToken).ConfigureAwait(false);
            // Never the token itself: who signed it, until when, and where guest software finds it.
            _console(string.Create(CultureInfo.InvariantCulture, $"TL-GUEST: token={stored.KeyId} exp={stored.Expires.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} path={stored.Path}"));
            return stored;
        }
        catch (BoundTokenException e)
        {
            _log($"token for request {token.RequestId} rejected: {e.Message}");
            return new ErrorMessage(token.Id, GuestErrorCodes.TokenRejected, e.Message);
        }
        catch (TpmTransportException e)
        {
            return new ErrorMessage(token.Id, GuestErrorCodes.TpmUnavailable, e.Message);
        }
        catch (Exception e) when (e is TpmResponseException or TpmFormatException)
        {
            // TPM_RC_POLICY_FAIL here means a bound PCR no longer holds its attested value: the token stays sealed.
            _log($"token for request {token.RequestId} rejected by the vTPM: {e.Message}");
            return new ErrorMessage(token.Id, GuestErrorCodes.TokenRejected, $"the vTPM refused to open it: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ErrorMessage(token.Id, GuestErrorCodes.Internal, $"storing the token failed: {e.Message}");
        }
        finally
        {
            _tpmGate.Release();
        }
    }

    private HeartbeatMessage Heartbeat(long? replyTo) =>
        new(replyTo, TpmReachable() ? HeartbeatStatus.Ready : HeartbeatStatus.NotReady,
            (long)_time.GetElapsedTime(_startTimestamp).TotalSeconds, AgentOptions.Version);

    private bool TpmReachable()
    {
        if (!_tpmGate.Wait(0))
            return true; // busy quoting: it is reachable
        try
        {
            using var tpm = new TpmClient(TctiSpecification.Open(_options.Tpm));
            tpm.ReadPublic(Collector.AkHandle);
            return true;
        }
        catch (Exception e) when (e is TpmTransportException or TpmResponseException or TpmFormatException or ArgumentException)
        {
            return false;
        }
        finally
        {
            _tpmGate.Release();
        }
    }

    public void Dispose() => _tpmGate.Dispose();
}
