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
    public async Task<string> ExecuteAsync(string command, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            byte[] request = Encoding.UTF8.GetBytes($"{{\"execute\":{JsonSerializer.Serialize(command, QmpJsonContext.Default.String)}}}\n");
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
                lock (_events)
                    _events.Add(name.GetString() ?? "");
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
