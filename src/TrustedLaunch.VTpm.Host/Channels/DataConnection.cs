using System.Diagnostics;
using System.Net.Sockets;
using TrustedLaunch.VTpm.Device;
using TrustedLaunch.VTpm.State;

namespace TrustedLaunch.VTpm.Host.Channels;

/// <summary>
/// Serves one data-channel connection: complete TPM commands in, responses out, one at a time. When it ends, logs what
/// it carried (<see cref="DataChannelTally"/>) with the state writes <paramref name="store"/> made since the process started.
/// </summary>
internal static class DataConnection
{
    public static void Serve(Socket socket, VTpmDevice device, VTpmStateStore store, HostLog log)
    {
        var tally = new DataChannelTally();
        using (socket)
        {
            try
            {
                Exchange(socket, device, tally, log);
            }
            finally
            {
                if (tally.Commands > 0) // not readiness probes
                    log.Info(tally.Describe(store.PersistCount, store.PersistTime));
            }
        }
    }

    private static void Exchange(Socket socket, VTpmDevice device, DataChannelTally tally, HostLog log)
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
                    long started = Stopwatch.GetTimestamp();
                    byte[] response = device.Execute(buffer.AsSpan(frame.CommandOffset, frame.CommandLength));
                    TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
                    tally.Add(buffer.AsSpan(frame.CommandOffset, frame.CommandLength), response.Length, elapsed);
                    if (log.LogsCommands) // the order and time of each command, to set against QEMU's tpm_* trace of the same boot
                        log.Command(DataChannelTally.DescribeOne(buffer.AsSpan(frame.CommandOffset, frame.CommandLength), response, elapsed));
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
