using System.Net.Sockets;
using TrustedLaunch.VTpm.Device;

namespace TrustedLaunch.VTpm.Host.Channels;

/// <summary>Serves one data-channel connection: complete TPM commands in, responses out, one at a time.</summary>
internal static class DataConnection
{
    public static void Serve(Socket socket, VTpmDevice device, HostLog log)
    {
        using (socket)
        {
            var buffer = new byte[SwtpmDataFraming.MaxCommandLength + 16];
            int filled = 0;
            try
            {
                while (true)
                {
                    int n = socket.Receive(buffer.AsSpan(filled));
                    if (n == 0)
                        return;
                    filled += n;
                    // vtpm.md §2.4: read until the header's size, not "what one read returned".
                    while (SwtpmDataFraming.TryGetFrame(buffer.AsSpan(0, filled), out DataFrame frame))
                    {
                        if (frame.Locality is byte locality)
                            _ = device.SetLocality(locality);
                        byte[] response = device.Execute(buffer.AsSpan(frame.CommandOffset, frame.CommandLength));
                        socket.Send(frame.Locality is null ? response : SwtpmDataFraming.WrapResponse(response));
                        buffer.AsSpan(frame.TotalLength, filled - frame.TotalLength).CopyTo(buffer);
                        filled -= frame.TotalLength;
                    }
                }
            }
            catch (InvalidDataException e)
            {
                log.Error($"data channel: {e.Message}; closing the connection");
            }
            catch (SocketException e)
            {
                log.Debug($"data connection ended: {e.Message}");
            }
        }
    }
}
