using System.Net.Sockets;

namespace TrustedLaunch.GuestAgent.Links;

/// <summary>How the agent reaches the host: the virtio-serial port in a guest, or a Unix socket (tests, relays).</summary>
public abstract class HostLink
{
    /// <summary>"unix:/path" connects to a Unix socket; anything else is a virtio-serial port device.</summary>
    public static HostLink Parse(string channel)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        return channel.StartsWith("unix:", StringComparison.Ordinal)
            ? new UnixSocketHostLink(channel["unix:".Length..])
            : new VirtioPortHostLink(channel);
    }

    public abstract string Description { get; }

    /// <summary>A stream with the host at the other end, or null with the reason when the host is not there yet.</summary>
    public abstract Task<(Stream? Stream, string? Absent)> TryOpenAsync(CancellationToken cancellationToken);
}

/// <summary>A Unix stream socket the host listens on.</summary>
public sealed class UnixSocketHostLink(string path) : HostLink
{
    public override string Description => $"unix:{path}";

    public override async Task<(Stream? Stream, string? Absent)> TryOpenAsync(CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return (new NetworkStream(socket, ownsSocket: true), null);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            return (null, e.Message);
        }
    }
}

/// <summary>
/// A virtio-serial port (/dev/virtio-ports/NAME). drivers/char/virtio_console.c: while no host program has the
/// chardev open, read() returns 0 at once and write() cannot proceed, and poll() reports POLLHUP; so the agent polls
/// before using the port and treats POLLHUP as "host absent". The port is used non-blocking (<see cref="VirtioPortStream"/>).
/// </summary>
public sealed class VirtioPortHostLink(string path) : HostLink
{
    public override string Description => path;

    public override Task<(Stream? Stream, string? Absent)> TryOpenAsync(CancellationToken cancellationToken)
    {
        VirtioPortStream? port = VirtioPortStream.TryOpen(path, out string? failure);
        if (port is null)
            return Task.FromResult<(Stream?, string?)>((null, failure));
        if (!port.HostPresent(out string? absent))
        {
            port.Dispose();
            return Task.FromResult<(Stream?, string?)>((null, absent));
        }

        return Task.FromResult<(Stream?, string?)>((port, null));
    }
}
