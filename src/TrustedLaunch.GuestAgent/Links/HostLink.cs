using System.Net.Sockets;
using System.Runtime.InteropServices;

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
/// chardev open, read() returns 0 at once and write() blocks, and poll() reports POLLHUP; so the agent polls before
/// using the port and treats POLLHUP as "host absent".
/// </summary>
public sealed partial class VirtioPortHostLink(string path) : HostLink
{
    private const short PollIn = 0x001;
    private const short PollOut = 0x004;
    private const short PollHup = 0x010;

    public override string Description => path;

    public override Task<(Stream? Stream, string? Absent)> TryOpenAsync(CancellationToken cancellationToken)
    {
        FileStream port;
        try
        {
            port = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult<(Stream?, string?)>((null, e.Message));
        }

        var fd = new PollFd { Descriptor = (int)port.SafeFileHandle.DangerousGetHandle(), Events = PollIn | PollOut };
        int ready = Poll(ref fd, 1, 0);
        if (ready < 0 || (fd.ReturnedEvents & PollHup) != 0 || (fd.ReturnedEvents & PollOut) == 0)
        {
            port.Dispose();
            return Task.FromResult<(Stream?, string?)>((null, ready < 0 ? $"poll failed (errno {Marshal.GetLastPInvokeError()})" : "no host program on the port"));
        }

        return Task.FromResult<(Stream?, string?)>((port, null));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Descriptor;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(ref PollFd fds, nuint count, int timeoutMilliseconds);
}
