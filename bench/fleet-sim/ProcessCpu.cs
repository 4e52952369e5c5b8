using System.Globalization;

namespace TrustedLaunch.FleetSim;

/// <summary>
/// CPU read from /proc for what shares the machine with the replicas: the PostgreSQL cluster (its postmaster, the children
/// it reaped and the backends alive), this simulator (with its swtpm children) and the whole machine (/proc/stat), so a
/// run says where the 2 cores went, not only the replicas' share.
/// </summary>
internal static class ProcessCpu
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>The postmaster's and its children's CPU so far (reaped children included through cutime/cstime).</summary>
    public static TimeSpan TreeCpu(int rootPid)
    {
        double ticks = 0;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                continue;
            string[]? f = StatFields(pid);
            if (f is null)
                continue;
            // Fields after "comm)": [0] state, [1] ppid, ..., [11] utime, [12] stime, [13] cutime, [14] cstime.
            if (pid == rootPid)
                ticks += Ticks(f, 11) + Ticks(f, 12) + Ticks(f, 13) + Ticks(f, 14);
            else if (int.Parse(f[1], CultureInfo.InvariantCulture) == rootPid)
                ticks += Ticks(f, 11) + Ticks(f, 12);
        }

        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    /// <summary>All CPUs' busy time so far (everything but idle and iowait), from /proc/stat.</summary>
    public static TimeSpan MachineBusy()
    {
        string[] cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        double busy = 0;
        for (int i = 1; i < cpu.Length && i <= 8; i++)
        {
            if (i is 4 or 5)
                continue; // idle, iowait
            busy += double.Parse(cpu[i], CultureInfo.InvariantCulture);
        }

        return TimeSpan.FromSeconds(busy / TicksPerSecond);
    }

    /// <summary>The 1-minute load average.</summary>
    public static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    private static string[]? StatFields(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null; // exited meanwhile
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static double Ticks(string[] fields, int index) => double.Parse(fields[index], CultureInfo.InvariantCulture);
}
