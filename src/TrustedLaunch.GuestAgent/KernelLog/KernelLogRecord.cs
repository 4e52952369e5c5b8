using System.Globalization;

namespace TrustedLaunch.GuestAgent.KernelLog;

/// <summary>
/// One <c>/dev/kmsg</c> record (Documentation/ABI/testing/dev-kmsg): <c>"prio,seq,usec,flags[,…];message"</c>,
/// where prio = facility × 8 + level, usec is the time since boot, and continuation lines (starting with a space)
/// carry key=value context that is not part of the message.
/// </summary>
public readonly record struct KernelLogRecord(int Facility, int Level, ulong Sequence, ulong MicrosecondsSinceBoot, string Message)
{
    /// <summary>Facility 0 (LOG_KERN): written by the kernel itself, not by user space through /dev/kmsg.</summary>
    public bool FromKernel => Facility == 0;

    /// <summary>Parses the header line of a record; false for anything else (continuation lines, garbage).</summary>
    public static bool TryParse(ReadOnlySpan<char> line, out KernelLogRecord record)
    {
        record = default;
        int semicolon = line.IndexOf(';');
        if (semicolon <= 0)
            return false;
        ReadOnlySpan<char> header = line[..semicolon];
        Span<Range> fields = stackalloc Range[5];
        int count = header.Split(fields, ',');
        if (count < 4)
            return false;
        if (!int.TryParse(header[fields[0]], NumberStyles.None, CultureInfo.InvariantCulture, out int prio) ||
            !ulong.TryParse(header[fields[1]], NumberStyles.None, CultureInfo.InvariantCulture, out ulong sequence) ||
            !ulong.TryParse(header[fields[2]], NumberStyles.None, CultureInfo.InvariantCulture, out ulong usec))
        {
            return false;
        }

        ReadOnlySpan<char> message = line[(semicolon + 1)..].TrimEnd('\n');
        record = new KernelLogRecord(prio >> 3, prio & 7, sequence, usec, Unescape(message));
        return true;
    }

    // dev-kmsg: non-printable bytes are escaped as \xHH, so a record is always one line.
    private static string Unescape(ReadOnlySpan<char> text)
    {
        if (!text.Contains("\\x", StringComparison.Ordinal))
            return text.ToString();
        var result = new System.Text.StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 3 < text.Length && text[i + 1] == 'x' &&
                byte.TryParse(text.Slice(i + 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b))
            {
                result.Append((char)b);
                i += 3;
            }
            else
            {
                result.Append(text[i]);
            }
        }

        return result.ToString();
    }
}
