using System.Buffers;
using TrustedLaunch.Tcg.EventLog;

namespace TrustedLaunch.Attestation;

/// <summary>
/// Whether the measured boot enables a kernel debugger. Every measured PCR 8/12 string is searched — GRUB commands
/// (menu entries and linux commands included), module and kernel command lines, load options — because GRUB's
/// digest does not cover the prefix that says which kind a string is, and because a boot may measure several.
/// </summary>
internal static class KernelDebugger
{
    // kgdb's and the EHCI debug port's parameters (Documentation/process/debugging/kgdb.rst, x86 earlyprintk).
    private static readonly string[] OptionPrefixes = ["kgdb", "ekgdb", "earlyprintk=dbgp", "earlycon=dbgp"];
    private static readonly SearchValues<char> Separators = SearchValues.Create(" \t\n\r;{}");

    /// <summary>True when a measured string enables one; false when kernel arguments were measured and none does; null when none were.</summary>
    public static bool? Enabled(BootStateSummary summary)
    {
        foreach (string text in summary.GrubCommands)
        {
            if (Enabled(text))
                return true;
        }

        foreach (string text in summary.KernelCommandLines)
        {
            if (Enabled(text))
                return true;
        }

        if (summary.Windows?.KernelDebugging is bool windows)
            return windows;
        return summary.KernelArguments.Any(a => a.Executed) ? false : null;
    }

    /// <summary>True when <paramref name="text"/> holds a debugger option as one of its words (quotes ignored).</summary>
    public static bool Enabled(string text)
    {
        ReadOnlySpan<char> rest = text;
        while (rest.IndexOfAnyExcept(Separators) is int start and >= 0)
        {
            rest = rest[start..];
            int end = rest.IndexOfAny(Separators);
            ReadOnlySpan<char> option = (end < 0 ? rest : rest[..end]).Trim("\"'\\");
            foreach (string prefix in OptionPrefixes)
            {
                if (option.StartsWith(prefix, StringComparison.Ordinal))
                    return true;
            }

            if (end < 0)
                break;
            rest = rest[end..];
        }

        return false;
    }
}
