using System.Globalization;
using System.Text;

namespace TrustedLaunch.GuestAgent.KernelLog;

/// <summary>The kernel taint mask (/proc/sys/kernel/tainted) decoded with kernel/panic.c's taint_flags letters.</summary>
public static class KernelTaint
{
    private static readonly (char Letter, string Meaning)[] Flags =
    [
        ('P', "proprietary module loaded"), ('F', "module force-loaded"), ('S', "out-of-spec system"), ('R', "module force-unloaded"),
        ('M', "machine check"), ('B', "bad page"), ('U', "taint requested by user space"), ('D', "kernel died recently (oops)"),
        ('A', "ACPI table overridden"), ('W', "kernel warning"), ('C', "staging driver loaded"), ('I', "firmware bug workaround"),
        ('O', "out-of-tree module loaded"), ('E', "unsigned module loaded"), ('L', "soft lockup"), ('K', "kernel live-patched"),
        ('X', "auxiliary taint"), ('T', "struct randomization plugin"), ('N', "in-kernel test run"),
    ];

    /// <summary>Bit 13 (TAINT_UNSIGNED_MODULE).</summary>
    public const ulong UnsignedModule = 1UL << 13;

    public static bool TryParse(string text, out ulong mask) =>
        ulong.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out mask);

    /// <summary>"0x2000: E (unsigned module loaded)".</summary>
    public static string Describe(ulong mask)
    {
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"kernel taint 0x{mask:x}:"));
        for (int bit = 0; bit < 64; bit++)
        {
            if ((mask & (1UL << bit)) == 0)
                continue;
            if (bit < Flags.Length)
                text.Append(CultureInfo.InvariantCulture, $" {Flags[bit].Letter} ({Flags[bit].Meaning})");
            else
                text.Append(CultureInfo.InvariantCulture, $" bit {bit}");
        }

        return text.ToString();
    }
}
