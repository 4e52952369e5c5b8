using System.Text;
using TrustedLaunch.Runtime.Console;

namespace TrustedLaunch.HostAgent.Vms;

/// <summary>The last lines of a VM's serial console as a person reads them (escapes removed, the event-log dump left out).</summary>
internal static class ConsoleTail
{
    private const int MaxBytes = 256 * 1024;
    private const int MaxLines = 120;

    public static string? Read(string consoleLog)
    {
        byte[] bytes;
        try
        {
            using var stream = new FileStream(consoleLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Position = Math.Max(0, stream.Length - MaxBytes);
            bytes = new byte[stream.Length - stream.Position];
            stream.ReadExactly(bytes);
        }
        catch (IOException)
        {
            return null;
        }

        var lines = new List<string>();
        bool dump = false;
        foreach (string line in ConsoleVerdictParser.ParseAll(bytes).Lines)
        {
            if (line.Contains("event-log-gzip-base64-begin", StringComparison.Ordinal))
                dump = true;
            else if (line.Contains("event-log-gzip-base64-end", StringComparison.Ordinal))
                dump = false;
            else if (!dump && line.Length > 0)
                lines.Add(line);
        }

        var text = new StringBuilder();
        foreach (string line in lines.TakeLast(MaxLines))
            text.Append(line).Append('\n');
        return text.ToString();
    }
}
