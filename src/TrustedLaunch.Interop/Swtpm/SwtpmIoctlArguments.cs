using System.Globalization;

namespace TrustedLaunch.Interop.Swtpm;

/// <summary>The control-channel commands <c>swtpm_ioctl</c> sends (one per invocation).</summary>
public enum SwtpmIoctlCommand
{
    Init,
    Shutdown,
    Stop,
    StoreVolatile,
    GetTpmEstablished,
    ResetTpmEstablished,
    SetLocality,
    GetCapabilities,
    Cancel,
    GetInfo,
}

/// <summary>
/// <c>swtpm_ioctl (--unix PATH | --tcp HOST:PORT) -i|-s|--stop|-v|-e|-r LOC|-l LOC|-c|-C|--info FLAGS</c>; libvirt sends
/// <c>--unix PATH -s</c> to stop a VM's swtpm.
/// </summary>
public sealed record SwtpmIoctlArguments(SwtpmIoctlCommand Command, string? UnixPath, string? TcpHost, int? TcpPort, uint Argument)
{
    /// <exception cref="SwtpmArgumentException">No endpoint, no command or two commands, or a malformed value.</exception>
    public static SwtpmIoctlArguments Parse(IReadOnlyList<string> args)
    {
        string? unix = null, host = null;
        int? port = null;
        SwtpmIoctlCommand? command = null;
        uint argument = 0;
        for (int i = 0; i < args.Count; i++)
        {
            string option = args[i];
            string Value() => ++i < args.Count ? args[i] : throw new SwtpmArgumentException($"{option} needs a value");
            void Set(SwtpmIoctlCommand c) => command = command is null ? c : throw new SwtpmArgumentException("give one command per invocation");
            switch (option)
            {
                case "--unix": unix = Value(); break;
                case "--tcp":
                {
                    string value = Value();
                    int colon = value.LastIndexOf(':');
                    host = colon > 0 ? value[..colon] : "127.0.0.1";
                    port = int.TryParse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p <= 65535
                        ? p : throw new SwtpmArgumentException($"--tcp '{value}' is not [HOST:]PORT");
                    break;
                }

                case "-i": Set(SwtpmIoctlCommand.Init); break;
                case "-s": Set(SwtpmIoctlCommand.Shutdown); break;
                case "--stop": Set(SwtpmIoctlCommand.Stop); break;
                case "-v": Set(SwtpmIoctlCommand.StoreVolatile); break;
                case "-e": Set(SwtpmIoctlCommand.GetTpmEstablished); break;
                case "-c": Set(SwtpmIoctlCommand.GetCapabilities); break;
                case "-C": Set(SwtpmIoctlCommand.Cancel); break;
                case "-r": Set(SwtpmIoctlCommand.ResetTpmEstablished); argument = Number(option, Value()); break;
                case "-l": Set(SwtpmIoctlCommand.SetLocality); argument = Number(option, Value()); break;
                case "--info": Set(SwtpmIoctlCommand.GetInfo); argument = Number(option, Value()); break;
                default: throw new SwtpmArgumentException($"unknown option '{option}'");
            }
        }

        if ((unix is null) == (host is null))
            throw new SwtpmArgumentException("give one of --unix PATH or --tcp [HOST:]PORT");
        if (command is null)
            throw new SwtpmArgumentException("no command given (-i, -s, --stop, -v, -e, -r, -l, -c, -C, --info)");
        return new SwtpmIoctlArguments(command.Value, unix, host, port, argument);
    }

    private static uint Number(string option, string value) =>
        uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out uint n) ? n : throw new SwtpmArgumentException($"{option} '{value}' is not a number");
}
