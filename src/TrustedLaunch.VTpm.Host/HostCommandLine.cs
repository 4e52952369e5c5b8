using System.Globalization;
using System.Net;
using TrustedLaunch.Storage;
using TrustedLaunch.VTpm.Device;

namespace TrustedLaunch.VTpm.Host;

/// <summary>Where a channel listens: a Unix socket path, or a loopback TCP port.</summary>
internal sealed record ChannelSpec(string? UnixPath, int? TcpPort, IPAddress BindAddress, UnixFileMode? Mode)
{
    public override string ToString() => UnixPath is not null ? $"unixio:{UnixPath}" : $"tcp:{BindAddress}:{TcpPort}";
}

/// <summary>
/// <c>tl-vtpm socket --tpm2 (--state FILE --key-file KEY | --vmgs FILE --kek-file KEK) --ctrl SPEC [--server SPEC] [--pid file=F]
/// [--log file=F,level=N] [--flags not-need-init,startup-clear|startup-state,disable-auto-shutdown]
/// [--locality reject-locality-4]</c>, modelled on <c>swtpm socket</c> so tooling can swap it in.
/// </summary>
internal sealed record HostCommandLine
{
    public const string Usage = """
        usage: tl-vtpm socket --tpm2 (--state FILE --key-file KEYFILE | --vmgs FILE --kek-file KEKFILE)
                              --ctrl type=unixio,path=P[,mode=0600] | type=tcp,port=N[,bindaddr=127.0.0.1]
                              [--server type=unixio,path=P | type=tcp,port=N]
                              [--pid file=F] [--log file=F[,level=N]]
                              [--flags not-need-init[,startup-clear|startup-state][,disable-auto-shutdown]]
                              [--locality reject-locality-4]
        The state file is made by 'tl vtpm manufacture', a VMGS by 'tl vmgs create'; tl-vtpm never creates a TPM.
        With --vmgs the state lives in the VMGS 'vtpm' entry; tl-vtpm holds the VMGS writer lock while it runs.
        exit codes: 0 stopped cleanly, 1 runtime failure, 2 usage, 3 environment (socket, libtpms), 4 state refused
        tl-vtpm swtpm socket … | swtpm_setup … | swtpm_ioctl …: the swtpm 0.7 command lines libvirt uses (docs/interop.md).
        """;

    /// <summary>The sealed state file (with <see cref="KeyPath"/>), or null when the state lives in a VMGS.</summary>
    public string? StatePath { get; init; }
    public string? KeyPath { get; init; }

    /// <summary>The sealing key itself, when it came from a secret (swtpm's <c>--key pwdfd=</c>) rather than a key file.</summary>
    public SealingKey? Key { get; init; }

    /// <summary>The VM's guest-state file whose vTPM entry holds the state (with <see cref="KekPath"/>).</summary>
    public string? VmgsPath { get; init; }
    public string? KekPath { get; init; }

    /// <summary>Where the state lives, for log lines and messages.</summary>
    public string StateDescription => VmgsPath is not null ? $"VMGS {VmgsPath}" : StatePath ?? "(none)";
    public required ChannelSpec Control { get; init; }
    public ChannelSpec? Server { get; init; }
    public string? PidFile { get; init; }
    public string? LogFile { get; init; }
    public int LogLevel { get; init; } = 1;
    public bool NotNeedInit { get; init; }
    public VTpmDeviceOptions Device { get; init; } = new();

    /// <exception cref="UsageException">The arguments are not a valid command line.</exception>
    public static HostCommandLine Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0] != "socket")
            throw new UsageException("the first argument must be 'socket' (the only interface tl-vtpm has)");
        string? state = null, key = null, vmgs = null, kek = null, pid = null, log = null;
        ChannelSpec? control = null, server = null;
        int level = 1;
        bool tpm2 = false, notNeedInit = false, rejectLocality4 = false, disableAutoShutdown = false;
        VTpmStartupMode startup = VTpmStartupMode.None;
        for (int i = 1; i < args.Count; i++)
        {
            string option = args[i];
            string Value() => ++i < args.Count ? args[i] : throw new UsageException($"{option} needs a value");
            switch (option)
            {
                case "--tpm2":
                    tpm2 = true;
                    break;
                case "--state":
                    state = Value();
                    break;
                case "--key-file":
                    key = Value();
                    break;
                case "--vmgs":
                    vmgs = Value();
                    break;
                case "--kek-file":
                    kek = Value();
                    break;
                case "--ctrl":
                    control = ParseChannel(option, Value());
                    break;
                case "--server":
                    server = ParseChannel(option, Value());
                    break;
                case "--pid":
                    pid = Single(option, Value(), "file");
                    break;
                case "--log":
                {
                    var fields = Fields(option, Value());
                    log = fields.GetValueOrDefault("file") ?? throw new UsageException("--log needs file=PATH");
                    if (fields.TryGetValue("level", out string? l) && !int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out level))
                        throw new UsageException($"--log level '{l}' is not a number");
                    break;
                }

                case "--flags":
                    foreach (string flag in Value().Split(',', StringSplitOptions.RemoveEmptyEntries))
                    {
                        switch (flag)
                        {
                            case "not-need-init": notNeedInit = true; break;
                            case "startup-clear": startup = VTpmStartupMode.Clear; break;
                            case "startup-state": startup = VTpmStartupMode.State; break;
                            case "startup-none": startup = VTpmStartupMode.None; break;
                            case "disable-auto-shutdown": disableAutoShutdown = true; break;
                            default: throw new UsageException($"unknown --flags value '{flag}'");
                        }
                    }

                    break;
                case "--locality":
                    foreach (string flag in Value().Split(',', StringSplitOptions.RemoveEmptyEntries))
                    {
                        if (flag == "reject-locality-4")
                            rejectLocality4 = true;
                        else if (flag != "allow-set-locality")
                            throw new UsageException($"unknown --locality value '{flag}'");
                    }

                    break;
                case "--tpmstate":
                    throw new UsageException("--tpmstate is swtpm's; tl-vtpm keeps its sealed state in one file: use --state FILE --key-file KEYFILE");
                case "-h" or "--help":
                    throw new UsageException(null);
                default:
                    throw new UsageException($"unknown option '{option}'");
            }
        }

        if (!tpm2)
            throw new UsageException("--tpm2 is required (tl-vtpm is a TPM 2.0 only)");
        if (vmgs is not null || kek is not null)
        {
            if (state is not null || key is not null)
                throw new UsageException("--vmgs/--kek-file and --state/--key-file are two places for one state; give one pair");
            if (vmgs is null || kek is null)
                throw new UsageException("--vmgs and --kek-file go together");
        }
        else if (state is null || key is null)
        {
            throw new UsageException("--state and --key-file (or --vmgs and --kek-file) are required");
        }
        if (control is null)
            throw new UsageException("--ctrl is required");
        return new HostCommandLine
        {
            StatePath = state,
            KeyPath = key,
            VmgsPath = vmgs,
            KekPath = kek,
            Control = control,
            Server = server,
            PidFile = pid,
            LogFile = log,
            LogLevel = level,
            NotNeedInit = notNeedInit,
            Device = new VTpmDeviceOptions { StartupMode = startup, RejectLocality4 = rejectLocality4, DisableAutoShutdown = disableAutoShutdown },
        };
    }

    private static ChannelSpec ParseChannel(string option, string value)
    {
        var fields = Fields(option, value);
        UnixFileMode? mode = null;
        if (fields.TryGetValue("mode", out string? m))
        {
            try
            {
                mode = (UnixFileMode)Convert.ToInt32(m, 8);
            }
            catch (FormatException e)
            {
                throw new UsageException($"{option} mode '{m}' is not an octal mode", e);
            }
        }

        switch (fields.GetValueOrDefault("type"))
        {
            case "unixio":
                return new ChannelSpec(fields.GetValueOrDefault("path") ?? throw new UsageException($"{option} type=unixio needs path=P"),
                    null, IPAddress.Loopback, mode);
            case "tcp":
            {
                string portText = fields.GetValueOrDefault("port") ?? throw new UsageException($"{option} type=tcp needs port=N");
                if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
                    throw new UsageException($"{option} port '{portText}' is not a port number");
                IPAddress address = IPAddress.Loopback;
                if (fields.TryGetValue("bindaddr", out string? bind) && (!IPAddress.TryParse(bind, out address!) || !IPAddress.IsLoopback(address)))
                    throw new UsageException($"{option} bindaddr '{bind}' is not a loopback address; tl-vtpm listens on loopback only");
                return new ChannelSpec(null, port, address, null);
            }

            default:
                throw new UsageException($"{option} needs type=unixio or type=tcp");
        }
    }

    private static string Single(string option, string value, string field) =>
        Fields(option, value).GetValueOrDefault(field) ?? throw new UsageException($"{option} needs {field}=VALUE");

    private static Dictionary<string, string> Fields(string option, string value)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in value.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw new UsageException($"{option}: '{part}' is not key=value");
            fields[part[..eq]] = part[(eq + 1)..];
        }

        return fields;
    }
}

/// <summary>The command line is wrong; the message (or the usage text when null) goes to stderr with exit code 2.</summary>
internal sealed class UsageException : Exception
{
    public UsageException() { }

    public UsageException(string? message) : base(message) { }

    public UsageException(string? message, Exception innerException) : base(message, innerException) { }
}
