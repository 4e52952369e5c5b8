using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace TrustedLaunch.Runtime.Qemu;

/// <summary>
/// A minimal QEMU Machine Protocol client (docs/interop/qmp-spec): JSON objects, one per line. After the greeting the
/// client must send <c>qmp_capabilities</c>; asynchronous <c>{"event":…}</c> objects may arrive between a command and
/// its <c>{"return":…}</c> or <c>{"error":…}</c>, and are recorded, not mistaken for the answer.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<string> _events = [];
    private string? _shutdownReason;

    private QmpClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    /// <summary>Names of the events seen so far (SHUTDOWN, POWERDOWN, RESET, …).</summary>
    public IReadOnlyList<string> Events
    {
        get
        {
            lock (_events)
                return [.. _events];
        }
    }

    /// <summary>
    /// The <c>reason</c> of the last SHUTDOWN event seen (qapi/run-state.json ShutdownCause: <c>guest-shutdown</c>,
    /// <c>guest-reset</c>, <c>guest-panic</c>, <c>host-qmp-quit</c>, <c>host-signal</c>, …); null when none was read.
    /// </summary>
    public string? ShutdownReason => Volatile.Read(ref _shutdownReason);

    /// <summary>
    /// Reads what QEMU sent and nobody asked for, until it closes the connection or <paramref name="timeout"/> passes.
    /// Events are read only between commands, so after QEMU exits its last ones (SHUTDOWN and its reason) are still in
    /// the socket's buffer: this is how the supervisor tells a guest reboot (<c>-no-reboot</c>) from a power-off.
    /// </summary>
    public async Task DrainEventsAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _gate.WaitAsync(cts.Token).ConfigureAwait(false);
        try
        {
            while (true)
            {
                using JsonDocument answer = await ReadMessageAsync(cts.Token).ConfigureAwait(false);
                // An answer to nothing (a command that timed out earlier): skip it.
            }
        }
        catch (Exception e) when (e is VmRuntimeException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Closed, timed out or broken: what was there has been read.
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Connects (retrying until QEMU has created the socket) and negotiates capabilities.</summary>
    public static async Task<QmpClient> ConnectAsync(string socketPath, TimeSpan timeout, Func<bool> giveUp, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(giveUp);
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                var client = new QmpClient(socket);
                await client.ReadMessageAsync(cancellationToken).ConfigureAwait(false); // {"QMP": {"version": …}}
                await client.ExecuteAsync("qmp_capabilities", cancellationToken).ConfigureAwait(false);
                return client;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !giveUp())
            {
                socket.Dispose();
                await Task.Delay(25, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed, $"QEMU's QMP socket {socketPath} did not answer.", e);
            }
        }
    }

    /// <summary>Runs one command and returns its <c>return</c> value as raw JSON; a QMP error becomes an exception.</summary>
    public Task<string> ExecuteAsync(string command, CancellationToken cancellationToken) => ExecuteAsync(command, argumentsJson: null, cancellationToken);

    /// <summary>Runs one command with its <c>arguments</c> object (raw JSON, built by the caller from typed values).</summary>
    public async Task<string> ExecuteAsync(string command, string? argumentsJson, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            string arguments = argumentsJson is null ? "" : $",\"arguments\":{argumentsJson}";
            byte[] request = Encoding.UTF8.GetBytes($"{{\"execute\":{JsonSerializer.Serialize(command, QmpJsonContext.Default.String)}{arguments}}}\n");
            await _stream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
            while (true)
            {
                using JsonDocument message = await ReadMessageAsync(cancellationToken).ConfigureAwait(false);
                JsonElement root = message.RootElement;
                if (root.TryGetProperty("return", out JsonElement result))
                    return result.GetRawText();
                if (root.TryGetProperty("error", out JsonElement error))
                {
                    string description = error.TryGetProperty("desc", out JsonElement desc) ? desc.GetString() ?? "" : error.GetRawText();
                    throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed, $"QMP {command} failed: {description}");
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<JsonDocument> ReadMessageAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            string line = await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed, "QEMU closed the QMP connection.");
            if (string.IsNullOrWhiteSpace(line))
                continue;
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed, "QEMU sent malformed QMP JSON.", e);
            }

            if (document.RootElement.ValueKind == JsonValueKind.Object &&
                document.RootElement.TryGetProperty("event", out JsonElement name))
            {
                string eventName = name.GetString() ?? "";
                lock (_events)
                    _events.Add(eventName);
                // qapi/run-state.json: SHUTDOWN {guest: bool, reason: ShutdownCause}.
                if (eventName == "SHUTDOWN" && document.RootElement.TryGetProperty("data", out JsonElement data) &&
                    data.ValueKind == JsonValueKind.Object && data.TryGetProperty("reason", out JsonElement reason) && reason.ValueKind == JsonValueKind.String)
                    Volatile.Write(ref _shutdownReason, reason.GetString());
                document.Dispose();
                continue;
            }

            return document;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
        _gate.Dispose();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class QmpJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
