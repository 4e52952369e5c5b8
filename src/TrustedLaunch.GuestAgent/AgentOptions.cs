using System.Globalization;

namespace TrustedLaunch.GuestAgent;

/// <summary>How the agent runs; every member has the in-guest default (docs/guest-channel.md, "Agent").</summary>
public sealed record AgentOptions
{
    public const string Version = "1.0.0";
    public const string DefaultChannel = "/dev/virtio-ports/org.trustedlaunch.agent.0";

    /// <summary>The virtio-serial port, or <c>unix:PATH</c> for a Unix socket.</summary>
    public string Channel { get; init; } = DefaultChannel;

    /// <summary>A TCTI: <c>device:/dev/tpmrm0</c> (default), <c>swtpm:path=…</c>, <c>swtpm:host=…,port=…</c>.</summary>
    public string Tpm { get; init; } = "device:/dev/tpmrm0";

    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>First reconnect delay; doubles (with up to 20 % jitter) to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The kernel log; null disables kernel findings.</summary>
    public string? KernelLog { get; init; } = "/dev/kmsg";

    /// <summary>Where /sys, /proc and /etc are (a prepared folder in tests).</summary>
    public string SystemRoot { get; init; } = "/";

    /// <summary>Where an opened bound token is stored for guest software (mode 0600).</summary>
    public string TokenFile { get; init; } = "/run/tl/attestation-token.jwt";

    /// <summary>A JWK Set file pinned in the guest to verify tokens with; null trusts the keys the host relays with the token.</summary>
    public string? TokenJwks { get; init; }

    public const string Usage = """
        tl-guest-agent: TrustedLaunch guest attestation agent (docs/guest-channel.md)
        usage: tl-guest-agent [options]
          --channel PATH|unix:PATH   host channel (default /dev/virtio-ports/org.trustedlaunch.agent.0)
          --tpm TCTI                 device:/dev/tpmrm0 (default), swtpm:path=SOCK, swtpm:host=H,port=P
          --heartbeat SECONDS        heartbeat interval (default 30)
          --max-backoff SECONDS      longest reconnect delay (default 5)
          --kmsg PATH|none           kernel log to follow (default /dev/kmsg)
          --root DIR                 system root for /sys, /proc, /etc (default /)
          --token-file PATH          where a bound token is stored (default /run/tl/attestation-token.jwt)
          --token-jwks FILE          the service's JWK Set to verify tokens with (default: the keys sent with it)
          --collect NONCE_HEX        print one evidence bundle as JSON and exit
          --version, --help
        """;

    /// <summary>Parses the command line; throws <see cref="ArgumentException"/> naming the bad argument.</summary>
    public static AgentOptions Parse(IReadOnlyList<string> args, out string? collectNonceHex)
    {
        ArgumentNullException.ThrowIfNull(args);
        collectNonceHex = null;
        var options = new AgentOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            options = args[i] switch
            {
                "--channel" => options with { Channel = Value() },
                "--tpm" => options with { Tpm = Value() },
                "--heartbeat" => options with { HeartbeatInterval = Seconds("--heartbeat", Value()) },
                "--max-backoff" => options with { MaxBackoff = Seconds("--max-backoff", Value()) },
                "--kmsg" => options with { KernelLog = Value() is var k && k == "none" ? null : k },
                "--root" => options with { SystemRoot = Value() },
                "--token-file" => options with { TokenFile = Value() },
                "--token-jwks" => options with { TokenJwks = Value() },
                "--collect" => (collectNonceHex = Value()) is not null ? options : options,
                _ => throw new ArgumentException($"Unknown argument '{args[i]}'."),
            };
        }

        return options;
    }

    private static TimeSpan Seconds(string name, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0 && s < 86400
            ? TimeSpan.FromSeconds(s)
            : throw new ArgumentException($"{name} '{text}' is not a number of seconds between 0 and 86400.");
}
