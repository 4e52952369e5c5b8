using System.Globalization;

namespace TrustedLaunch.HostSystem.Processes;

/// <summary>
/// A running process named so that a reused pid is not mistaken for it: its pid and its start time (field 22 of
/// <c>/proc/PID/stat</c>, clock ticks after boot), as <c>systemd</c> and <c>pidfd</c>-less supervisors tell processes apart.
/// </summary>
public readonly record struct ProcessIdentity(int Pid, long StartTicks)
{
    /// <summary>The process <paramref name="pid"/> as it is now; null when no such process runs (a zombie counts as gone).</summary>
    public static ProcessIdentity? Of(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // proc(5): "pid (comm) state ppid …"; comm may hold spaces and parentheses, so fields count from the last ')'.
        int close = text.LastIndexOf(')');
        if (close < 0)
            return null;
        string[] fields = text[(close + 2)..].Split(' ');
        if (fields.Length < 20 || fields[0] is "Z" or "X")
            return null;
        return long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out long start) ? new ProcessIdentity(pid, start) : null;
    }

    /// <summary>This very process still runs (same pid, same start time).</summary>
    public bool IsRunning => Of(Pid) is ProcessIdentity now && now.StartTicks == StartTicks;
}
