using System.Net;
using System.Net.Sockets;

namespace TrustedLaunch.VTpm.Host.Channels;

/// <summary>A listening socket for one channel, accepting connections on its own thread.</summary>
internal sealed class ChannelListener : IDisposable
{
    private readonly Socket _socket;
    private readonly Action<Socket> _serve;
    private readonly string? _unixPath;
    private volatile bool _closed;

    private ChannelListener(Socket socket, string? unixPath, Action<Socket> serve)
    {
        _socket = socket;
        _unixPath = unixPath;
        _serve = serve;
    }

    /// <summary>Binds (loopback or a Unix path; a stale socket file is replaced) and starts accepting.</summary>
    public static ChannelListener Start(ChannelSpec spec, string name, Action<Socket> serve)
    {
        Socket socket;
        if (spec.UnixPath is not null)
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            if (File.Exists(spec.UnixPath) && (File.GetAttributes(spec.UnixPath) & FileAttributes.Directory) == 0)
                File.Delete(spec.UnixPath); // a socket file left by a killed process
            socket.Bind(new UnixDomainSocketEndPoint(spec.UnixPath));
            File.SetUnixFileMode(spec.UnixPath, spec.Mode ?? (UnixFileMode.UserRead | UnixFileMode.UserWrite));
        }
        else
        {
            socket = new Socket(spec.BindAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(spec.BindAddress, spec.TcpPort ?? 0));
        }

        socket.Listen(16);
        var listener = new ChannelListener(socket, spec.UnixPath, serve);
        new Thread(listener.AcceptLoop) { IsBackground = true, Name = $"tl-vtpm {name} accept" }.Start();
        return listener;
    }

    public EndPoint LocalEndPoint => _socket.LocalEndPoint!;

    private void AcceptLoop()
    {
        while (!_closed)
        {
            Socket client;
            try
            {
                client = _socket.Accept();
            }
            catch (SocketException) when (_closed)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            if (client.ProtocolType == ProtocolType.Tcp)
                client.NoDelay = true;
            new Thread(() => _serve(client)) { IsBackground = true, Name = "tl-vtpm connection" }.Start();
        }
    }

    public void Dispose()
    {
        _closed = true;
        _socket.Dispose();
        if (_unixPath is not null)
        {
            try
            {
                File.Delete(_unixPath);
            }
            catch (IOException)
            {
                // Leaving a dead socket file is harmless; the next start replaces it.
            }
        }
    }
}
