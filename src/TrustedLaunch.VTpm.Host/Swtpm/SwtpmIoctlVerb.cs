using System.Globalization;
using System.Net.Sockets;
using TrustedLaunch.Interop.Swtpm;
using TrustedLaunch.Tpm.Protocol.Swtpm;
using TrustedLaunch.Tpm.Transport;

namespace TrustedLaunch.VTpm.Host.Swtpm;

/// <summary><c>tl-vtpm swtpm_ioctl …</c>: one control-channel command to a running swtpm or tl-vtpm, printed as swtpm_ioctl does.</summary>
internal static class SwtpmIoctlVerb
{
    public static int Run(IReadOnlyList<string> args)
    {
        SwtpmIoctlArguments ioctl;
        try
        {
            ioctl = SwtpmIoctlArguments.Parse(args);
        }
        catch (SwtpmArgumentException e)
        {
            return SwtpmVerbs.Refuse("swtpm_ioctl", e.Message);
        }

        SwtpmControlClient client = ioctl.UnixPath is not null ? SwtpmControlClient.Unix(ioctl.UnixPath) : SwtpmControlClient.Tcp(ioctl.TcpHost!, ioctl.TcpPort!.Value);
        try
        {
            switch (ioctl.Command)
            {
                case SwtpmIoctlCommand.Init: client.Init(); break;
                case SwtpmIoctlCommand.Shutdown: client.Shutdown(); break;
                case SwtpmIoctlCommand.Stop: client.Stop(); break;
                case SwtpmIoctlCommand.StoreVolatile: client.StoreVolatile(); break;
                case SwtpmIoctlCommand.Cancel: client.CancelTpmCommand(); break;
                case SwtpmIoctlCommand.SetLocality: client.SetLocality((byte)ioctl.Argument); break;
                case SwtpmIoctlCommand.ResetTpmEstablished: client.ResetTpmEstablished((byte)ioctl.Argument); break;
                case SwtpmIoctlCommand.GetTpmEstablished:
                    Console.Out.WriteLine($"tpmEstablished is {(client.GetTpmEstablished() ? 1 : 0)}");
                    break;
                case SwtpmIoctlCommand.GetCapabilities:
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ptm capability is 0x{(ulong)client.GetCapabilities():x}"));
                    break;
                case SwtpmIoctlCommand.GetInfo:
                    Console.Out.WriteLine(client.GetInfo((SwtpmInfoSelectors)ioctl.Argument));
                    break;
            }

            return 0;
        }
        catch (SwtpmControlException e)
        {
            return SwtpmVerbs.Refuse("swtpm_ioctl", e.Message);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return SwtpmVerbs.Refuse("swtpm_ioctl", $"cannot reach {ioctl.UnixPath ?? $"{ioctl.TcpHost}:{ioctl.TcpPort}"}: {e.Message}");
        }
    }
}
