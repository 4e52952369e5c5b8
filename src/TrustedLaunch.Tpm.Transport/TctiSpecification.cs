using System.Globalization;

namespace TrustedLaunch.Tpm.Transport;

/// <summary>
/// Opens a transport from a tpm2-tools style TCTI string, so <c>tl tpm</c> verbs take the same <c>--tcti</c> values:
/// <c>swtpm[:host=H,port=P]</c> (default localhost:2321), <c>swtpm:path=/run/x.sock</c>,
/// <c>mssim[:host=H,port=P]</c>, <c>device[:/dev/tpmrm0]</c>.
/// </summary>
public static class TctiSpecification
{
    public static Protocol.ITpmTransport Open(string tcti)
    {
        ArgumentNullException.ThrowIfNull(tcti);
        int colon = tcti.IndexOf(':', StringComparison.Ordinal);
        string kind = (colon < 0 ? tcti : tcti[..colon]).Trim().ToLowerInvariant();
        string config = colon < 0 ? "" : tcti[(colon + 1)..];
        switch (kind)
        {
            case "device":
                return new TpmDeviceTransport(config.Length == 0 ? TpmDeviceTransport.ResourceManagerPath : config);
            case "swtpm":
            {
                var kv = ParseKeyValues(config);
                if (kv.TryGetValue("path", out var path))
                    return SwtpmSocketTransport.Unix(path);
                return SwtpmSocketTransport.Tcp(kv.GetValueOrDefault("host", "127.0.0.1"), Port(kv, 2321));
            }
            case "mssim":
            {
                var kv = ParseKeyValues(config);
                return MsSimulatorTransport.Tcp(kv.GetValueOrDefault("host", "127.0.0.1"), Port(kv, 2321));
            }
            default:
                throw new ArgumentException($"Unsupported TCTI '{kind}'; use swtpm:host=…,port=…, swtpm:path=…, mssim:… or device:/dev/tpmrm0.");
        }
    }

    private static int Port(Dictionary<string, string> kv, int fallback)
    {
        if (!kv.TryGetValue("port", out var text))
            return fallback;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and < 65536
            ? port
            : throw new ArgumentException($"TCTI port '{text}' is not a port number.");
    }

    private static Dictionary<string, string> ParseKeyValues(string config)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in config.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw new ArgumentException($"TCTI option '{part}' is not key=value.");
            result[part[..eq]] = part[(eq + 1)..];
        }

        return result;
    }
}
