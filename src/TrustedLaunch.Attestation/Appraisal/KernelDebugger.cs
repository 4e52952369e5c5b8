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

    /// <summary>True when a measured string enables one; false when kernel arguments were measured and none does; null when none were.</summary>
    public static bool? Enabled(Tcg.EventLog.BootStateSummary summary)
    {
        foreach (string text in summary.GrubCommands.Concat(summary.KernelCommandLines))
        {
            if (Mentions(text))
                return true;
        }

        if (summary.Windows?.KernelDebugging is bool windows)
            return windows;
        return summary.KernelArguments.Any(a => a.Executed) ? false : null;
    }

    /// <summary>True when <paramref name="text"/> holds a debugger option as one of its words.</summary>
    public static bool Enabled(string text) => Mentions(text);

    private static bool Mentions(string text)
    {
        foreach (string token in text.Split([' ', '\t', '\n', '\r', ';', '{', '}'], StringSplitOptions.RemoveEmptyEntries))
        {
            string option = token.Trim('"', '\'', '\\');
            foreach (string prefix in OptionPrefixes)
            {
                if (option.StartsWith(prefix, StringComparison.Ordinal))
                    return true;
            }
        }

        return false;
    }
}
