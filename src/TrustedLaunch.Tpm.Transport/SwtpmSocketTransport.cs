using System.Net;
using System.Net.Sockets;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport;

/// <summary>
/// The swtpm data channel over TCP or a Unix socket (<c>swtpm socket --server type=tcp|unixio</c>): raw TPM
/// command in, raw response out (vtpm.md §2.4). By default every command uses its own connection, as tpm2-tss's
/// swtpm TCTI does, because swtpm serves one data client at a time and holding the connection would lock out
/// other clients (tpm2-tools, QEMU); <c>keepConnection</c> trades that for one fewer connect per command.
/// </summary>
public sealed class SwtpmSocketTransport : ITpmTransport
{
    private readonly EndPoint _endPoint;
    private readonly bool _keepConnection;
    private readonly TimeSpan _timeout;
    private SocketChannel? _channel;

    public SwtpmSocketTransport(EndPoint dataEndPoint, bool keepConnection = false, TimeSpan? timeout = null)
    {
        _endPoint = dataEndPoint ?? throw new ArgumentNullException(nameof(dataEndPoint));
        _keepConnection = keepConnection;
        _timeout = timeout ?? TimeSpan.FromSeconds(60); // RSA key generation in libtpms may take seconds
    }

    public static SwtpmSocketTransport Tcp(string host, int port, bool keepConnection = false) =>
        new(ResolveEndPoint(host, port), keepConnection);

    public static SwtpmSocketTransport Unix(string path, bool keepConnection = false) =>
        new(new UnixDomainSocketEndPoint(path), keepConnection);

    public EndPoint EndPoint => _endPoint;

    public byte[] Execute(ReadOnlySpan<byte> command)
    {
        var channel = _channel ?? SocketChannel.Connect(_endPoint, _timeout);
        try
        {
            channel.Send(command);
            byte[] response = TpmResponseFraming.Read(channel);
            if (_keepConnection)
            {
                _channel = channel;
            }
            else
            {
                channel.Dispose();
            }

            return response;
        }
        catch
        {
            channel.Dispose();
            _channel = null;
            throw;
        }
    }

    internal static EndPoint ResolveEndPoint(string host, int port)
    {
        if (IPAddress.TryParse(host, out var ip))
            return new IPEndPoint(ip, port);
        var addresses = Dns.GetHostAddresses(host);
        var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new TpmTransportException($"Host '{host}' has no address.");
        return new IPEndPoint(chosen, port);
    }

    public void Dispose()
    {
        _channel?.Dispose();
        _channel = null;
    }
}
