using System.Net;
using System.Net.Sockets;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport;

/// <summary>A blocking stream socket with deadlines, shared by the swtpm and simulator transports.</summary>
internal sealed class SocketChannel : IDisposable
{
    private readonly Socket _socket;

    private SocketChannel(Socket socket) => _socket = socket;

    public static SocketChannel Connect(EndPoint endPoint, TimeSpan timeout)
    {
        var socket = endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        int ms = (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue);
        socket.ReceiveTimeout = ms;
        socket.SendTimeout = ms;
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            socket.ConnectAsync(endPoint, cts.Token).AsTask().GetAwaiter().GetResult();
            return new SocketChannel(socket);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            throw new TpmTransportException($"Cannot connect to {endPoint}: {e.Message}", e);
        }
    }

    public void Send(ReadOnlySpan<byte> bytes)
    {
        try
        {
            while (!bytes.IsEmpty)
            {
                int n = _socket.Send(bytes);
                bytes = bytes[n..];
            }
        }
        catch (SocketException e)
        {
            throw new TpmTransportException($"Send to {_socket.RemoteEndPoint} failed: {e.Message}", e);
        }
    }

    /// <summary>Fills <paramref name="buffer"/> completely or throws (peer closed, timeout).</summary>
    public void ReceiveExactly(Span<byte> buffer)
    {
        try
        {
            while (!buffer.IsEmpty)
            {
                int n = _socket.Receive(buffer);
                if (n == 0)
                    throw new TpmTransportException($"{_socket.RemoteEndPoint} closed the connection with {buffer.Length} byte(s) still expected.");
                buffer = buffer[n..];
            }
        }
        catch (SocketException e)
        {
            throw new TpmTransportException($"Receive from {_socket.RemoteEndPoint} failed: {e.Message}", e);
        }
    }

    public void Dispose() => _socket.Dispose();
}

/// <summary>Reads one TPM 2.0 response: the 10-byte header, then the rest announced by responseSize (Part 1 §18.8).</summary>
internal static class TpmResponseFraming
{
    /// <summary>TPM_BUFFER_MAX upper bound: no TPM response legitimately exceeds this.</summary>
    public const int MaxResponseSize = 64 * 1024;

    public static byte[] Read(SocketChannel channel)
    {
        Span<byte> header = stackalloc byte[TpmResponse.HeaderSize];
        channel.ReceiveExactly(header);
        uint size = (uint)((header[2] << 24) | (header[3] << 16) | (header[4] << 8) | header[5]);
        if (size < TpmResponse.HeaderSize || size > MaxResponseSize)
            throw new TpmTransportException($"TPM response announces {size} bytes; not a TPM 2.0 response.");
        var response = new byte[size];
        header.CopyTo(response);
        channel.ReceiveExactly(response.AsSpan(TpmResponse.HeaderSize));
        return response;
    }
}
