using System.Net.Sockets;
using TrustedLaunch.VTpm.Device;

namespace TrustedLaunch.VTpm.Host.Channels;

/// <summary>Serves one control-channel connection: bytes (and SCM_RIGHTS fds) in, <see cref="SwtpmControlServer"/> replies out.</summary>
internal static class ControlConnection
{
    public static void Serve(Socket socket, SwtpmControlServer server, HostLog log, Action requestExit)
    {
        using (socket)
        {
            var pending = new List<byte>(64);
            var chunk = new byte[64 * 1024];
            int pendingFd = -1;
            try
            {
                while (true)
                {
                    int fd = -1;
                    int n = socket.AddressFamily == AddressFamily.Unix ? UnixRights.Receive(socket, chunk, out fd) : socket.Receive(chunk);
                    if (fd >= 0)
                        pendingFd = fd;
                    if (n == 0)
                        return;
                    pending.AddRange(chunk.AsSpan(0, n));
                    while (SwtpmControlServer.TryGetRequestLength(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pending), out int length))
                    {
                        byte[] request = pending.GetRange(0, length).ToArray();
                        pending.RemoveRange(0, length);
                        byte[] response = server.Handle(request, pendingFd, out ControlFollowUp followUp);
                        log.Debug($"ctrl cmd 0x{request[3]:X2} ({length} bytes) -> res 0x{System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(response):X}");
                        pendingFd = -1;
                        socket.Send(response);
                        if (followUp == ControlFollowUp.ExitProcess)
                        {
                            requestExit();
                            return;
                        }
                    }
                }
            }
            catch (SocketException e)
            {
                log.Debug($"control connection ended: {e.Message}");
            }
        }
    }
}
