using System.Globalization;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestAgent.KernelLog;

namespace TrustedLaunch.GuestAgent;

/// <summary>
/// The guest's kernel and OS files the agent reads, under a root directory ("/" in a guest; a prepared folder in tests).
/// Every read is bounded; a missing file is "not present", not an error.
/// </summary>
public sealed class GuestSystem(string root = "/")
{
    public const string TcgLogPath = "/sys/kernel/security/tpm0/binary_bios_measurements";
    public const string ImaBinaryLogPath = "/sys/kernel/security/ima/binary_runtime_measurements";
    public const string ImaAsciiLogPath = "/sys/kernel/security/ima/ascii_runtime_measurements";
    public const string OsReleasePath = "/etc/os-release";
    public const string KernelReleasePath = "/proc/sys/kernel/osrelease";
    public const string CommandLinePath = "/proc/cmdline";
    public const string ProductUuidPath = "/sys/class/dmi/id/product_uuid";
    public const string TaintedPath = "/proc/sys/kernel/tainted";
    public const string ModulesPath = "/proc/modules";
    public const string UptimePath = "/proc/uptime";
    private const int MaxTextBytes = 1024 * 1024;

    public string Root { get; } = root;

    /// <summary>The host path of a guest path.</summary>
    public string Resolve(string guestPath) => Root == "/" ? guestPath : Path.Combine(Root, guestPath.TrimStart('/'));

    /// <summary>The whole file, or null when absent; sysfs/securityfs files report size 0, so it reads to the end.</summary>
    public byte[]? ReadBytes(string guestPath, int maxBytes)
    {
        try
        {
            using var file = new FileStream(Resolve(guestPath), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            using var content = new MemoryStream();
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = file.Read(buffer)) > 0)
            {
                if (content.Length + n > maxBytes)
                    throw new IOException($"{guestPath} is larger than {maxBytes} bytes.");
                content.Write(buffer, 0, n);
            }

            return content.ToArray();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public string? ReadText(string guestPath) =>
        ReadBytes(guestPath, MaxTextBytes) is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null;

    /// <summary>ID, VERSION_ID and PRETTY_NAME from os-release (freedesktop os-release(5): shell-style KEY=value).</summary>
    public OsIdentity ReadOsIdentity()
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string raw in (ReadText(OsReleasePath) ?? "").Split('\n'))
        {
            string line = raw.Trim();
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (line.StartsWith('#') || eq <= 0)
                continue;
            string value = line[(eq + 1)..];
            if (value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0])
                value = value[1..^1].Replace("\\\"", "\"", StringComparison.Ordinal);
            fields[line[..eq]] = value;
        }

        return new OsIdentity
        {
            Id = fields.GetValueOrDefault("ID"),
            VersionId = fields.GetValueOrDefault("VERSION_ID"),
            PrettyName = fields.GetValueOrDefault("PRETTY_NAME"),
            KernelRelease = ReadText(KernelReleasePath)?.Trim(),
            KernelCommandLine = ReadText(CommandLinePath)?.TrimEnd('\n'),
        };
    }

    /// <summary>The SMBIOS system UUID (QEMU's -uuid), lowercase, or null.</summary>
    public string? ReadVmId() => ReadText(ProductUuidPath)?.Trim().ToLowerInvariant() is { Length: > 0 } id ? id : null;

    public ulong? ReadTaint() => ReadText(TaintedPath) is { } text && KernelTaint.TryParse(text, out ulong mask) ? mask : null;

    public IReadOnlySet<string> ReadLoadedModules() => ModuleRejectionResolver.ParseProcModules(ReadText(ModulesPath) ?? "");

    public IReadOnlyList<string> ReadImaMeasuredPaths() => ModuleRejectionResolver.ParseImaAsciiPaths(ReadText(ImaAsciiLogPath) ?? "");

    /// <summary>Seconds since boot (first field of /proc/uptime), or null.</summary>
    public double? ReadUptimeSeconds()
    {
        string? text = ReadText(UptimePath);
        if (text is null)
            return null;
        int space = text.IndexOf(' ', StringComparison.Ordinal);
        return double.TryParse(space < 0 ? text : text[..space], NumberStyles.Float, CultureInfo.InvariantCulture, out double s) ? s : null;
    }
}
