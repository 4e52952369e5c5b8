namespace TrustedLaunch.Interop.Swtpm;

/// <summary>A <c>--ctrl</c> or <c>--server</c> endpoint: a Unix socket path or a TCP port.</summary>
public sealed record SwtpmEndpoint(string? UnixPath, int? TcpPort, string? BindAddress, UnixFileMode? Mode);

/// <summary>
/// <c>swtpm socket</c>'s command line as libvirt (9.0: <c>--ctrl type=unixio,path=P,mode=0600 --tpmstate dir=D,mode=0600
/// --log file=F --terminate --tpm2 [--key pwdfd=N,mode=aes-256-cbc --migration-key pwdfd=N,…] [--pid file=F]</c>),
/// Nova and Proxmox run it, parsed into what tl-vtpm needs. Options tl-vtpm cannot honour are refused by name.
/// </summary>
public sealed record SwtpmSocketArguments
{
    public bool PrintCapabilities { get; init; }
    public bool Tpm2 { get; init; }
    public SwtpmEndpoint? Control { get; init; }
    public SwtpmEndpoint? Server { get; init; }

    /// <summary>The <c>--tpmstate dir=</c> (or <c>backend-uri=dir://</c>) folder.</summary>
    public string? StateDirectory { get; init; }
    public UnixFileMode? StateMode { get; init; }
    public string? LogFile { get; init; }
    public int LogLevel { get; init; } = 1;
    public string? PidFile { get; init; }
    public SwtpmKeySource? Key { get; init; }

    /// <summary>Accepted for compatibility: tl-vtpm's state blobs are sealed by the host key, not by a migration key.</summary>
    public SwtpmKeySource? MigrationKey { get; init; }
    public bool Terminate { get; init; }
    public IReadOnlyList<string> Flags { get; init; } = [];
    public IReadOnlyList<string> Locality { get; init; } = [];

    /// <exception cref="SwtpmArgumentException">The arguments (after <c>socket</c>) are not a command line tl-vtpm can run.</exception>
    public static SwtpmSocketArguments Parse(IReadOnlyList<string> args)
    {
        var result = new SwtpmSocketArguments();
        for (int i = 0; i < args.Count; i++)
        {
            string option = args[i];
            string Value() => ++i < args.Count ? args[i] : throw new SwtpmArgumentException($"{option} needs a value");
            result = option switch
            {
                "--print-capabilities" => result with { PrintCapabilities = true },
                "--tpm2" => result with { Tpm2 = true },
                "--ctrl" => result with { Control = ParseEndpoint(option, Value()) },
                "--server" => result with { Server = ParseEndpoint(option, Value()) },
                "--tpmstate" => ParseState(result, option, Value()),
                "--log" => ParseLog(result, option, Value()),
                "--pid" => result with { PidFile = ParsePid(option, Value()) },
                "--key" => result with { Key = SwtpmKeySource.ParseKeyOption(option, Value()) },
                "--migration-key" => result with { MigrationKey = SwtpmKeySource.ParseKeyOption(option, Value()) },
                "--terminate" or "-t" => result with { Terminate = true },
                "--flags" => result with { Flags = [.. result.Flags, .. Value().Split(',', StringSplitOptions.RemoveEmptyEntries)] },
                "--locality" => result with { Locality = [.. result.Locality, .. Value().Split(',', StringSplitOptions.RemoveEmptyEntries)] },
                "--seccomp" => result, // tl-vtpm installs no seccomp profile; action=none or a profile changes nothing here
                "-d" or "--daemon" => throw new SwtpmArgumentException(
                    "--daemon is not supported: tl-vtpm stays in the foreground (libvirt >= 8 daemonizes swtpm itself and does not pass it)"),
                "--migration" => throw new SwtpmArgumentException(
                    "--migration is not supported: tl-vtpm does not advertise cmdarg-migration (shared-storage migration)"),
                "--tpm1" or "--print-states" or "--print-profiles" or "--profile" or "--runas" or "--chroot" or "--fd" or "--vtpm-proxy" =>
                    throw new SwtpmArgumentException($"{option} is not supported by tl-vtpm"),
                _ => throw new SwtpmArgumentException($"unknown option '{option}'"),
            };
        }

        if (result.PrintCapabilities)
            return result;
        if (!result.Tpm2)
            throw new SwtpmArgumentException("--tpm2 is required: tl-vtpm is a TPM 2.0 only (no TPM 1.2)");
        if (result.Control is null)
            throw new SwtpmArgumentException("--ctrl is required");
        if (result.StateDirectory is null)
            throw new SwtpmArgumentException("--tpmstate dir=DIR is required");
        return result;
    }

    private static SwtpmSocketArguments ParseState(SwtpmSocketArguments result, string option, string value)
    {
        SwtpmOptionFields fields = SwtpmOptionFields.Parse(option, value);
        fields.RequireOnly("dir", "mode", "backend-uri", "lock");
        string? dir = fields.Get("dir");
        if (fields.Get("backend-uri") is { } uri)
        {
            dir = uri.StartsWith("dir://", StringComparison.Ordinal)
                ? uri["dir://".Length..]
                : throw new SwtpmArgumentException($"{option}: backend-uri '{uri}' is not dir://PATH (tl-vtpm keeps its sealed state in a folder)");
        }

        return result with
        {
            StateDirectory = dir ?? throw new SwtpmArgumentException($"{option} needs dir=PATH"),
            StateMode = fields.GetMode("mode"),
        };
    }

    private static SwtpmSocketArguments ParseLog(SwtpmSocketArguments result, string option, string value)
    {
        SwtpmOptionFields fields = SwtpmOptionFields.Parse(option, value);
        fields.RequireOnly("file", "level", "prefix", "truncate");
        return result with
        {
            LogFile = fields.Get("file") ?? throw new SwtpmArgumentException($"{option} needs file=PATH (fd= is not supported)"),
            LogLevel = fields.GetInt("level") ?? result.LogLevel,
        };
    }

    private static string ParsePid(string option, string value)
    {
        SwtpmOptionFields fields = SwtpmOptionFields.Parse(option, value);
        fields.RequireOnly("file");
        return fields.Get("file") ?? throw new SwtpmArgumentException($"{option} needs file=PATH (fd= is not supported)");
    }

    private static SwtpmEndpoint ParseEndpoint(string option, string value)
    {
        SwtpmOptionFields fields = SwtpmOptionFields.Parse(option, value);
        fields.RequireOnly("type", "path", "mode", "port", "bindaddr", "uid", "gid", "disconnect");
        if (fields.Has("uid") || fields.Has("gid"))
            throw new SwtpmArgumentException($"{option}: uid=/gid= are not supported; run tl-vtpm as the socket's owner");
        return fields.Get("type") switch
        {
            "unixio" => new SwtpmEndpoint(
                fields.Get("path") ?? throw new SwtpmArgumentException($"{option} type=unixio needs path=P (clientfd= and fd= are not supported)"),
                null, null, fields.GetMode("mode")),
            "tcp" => new SwtpmEndpoint(null,
                fields.GetInt("port") is int port and <= 65535 ? port : throw new SwtpmArgumentException($"{option} type=tcp needs port=N (fd= is not supported)"),
                fields.Get("bindaddr"), null),
            _ => throw new SwtpmArgumentException($"{option} needs type=unixio or type=tcp"),
        };
    }
}
