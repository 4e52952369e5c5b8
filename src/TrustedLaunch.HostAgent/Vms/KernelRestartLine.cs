using System.Text.RegularExpressions;

namespace TrustedLaunch.HostAgent.Vms;

/// <summary>
/// How a Linux guest said it ended, from its serial console: <c>kernel/reboot.c</c> prints "reboot: Restarting system" before a
/// reset and "reboot: Power down" (or "System halted") before a power-off. Read when QEMU exited while no agent held its QMP
/// socket, so its SHUTDOWN reason (<c>guest-reset</c>) was never read.
/// </summary>
internal static partial class KernelRestartLine
{
    /// <summary>Whether the last of the kernel's reboot lines in <paramref name="lines"/> is a restart.</summary>
    public static bool EndedInRestart(IList<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        for (int i = lines.Count - 1; i >= 0; i--)
        {
            Match m = RebootLine().Match(lines[i]);
            if (m.Success)
                return m.Groups["what"].Value == "Restarting system";
        }

        return false;
    }

    [GeneratedRegex(@"\breboot: (?<what>Restarting system|Power down|System halted)\b")]
    private static partial Regex RebootLine();
}
