using System.Text.RegularExpressions;

namespace TrustedLaunch.Runtime.Qemu;

/// <summary>
/// QEMU trace events to log while a VM runs (<c>-trace enable=PATTERN</c> each, <c>-D FILE</c>, <c>-msg timestamp=on</c>):
/// the diagnosis path for what QEMU does between the guest and a device (e.g. <c>tpm_*</c> for every vTPM command
/// with its time). QEMU's log backend writes one line per event, <c>TID@SECONDS.MICROS:event args</c>.
/// </summary>
public sealed partial class QemuTrace
{
    private QemuTrace(IReadOnlyList<string> patterns, string file)
    {
        Patterns = patterns;
        File = file;
    }

    /// <summary>Event names or glob patterns (<c>*</c>, <c>?</c>) as <c>qemu-system-x86_64 -trace help</c> lists them.</summary>
    public IReadOnlyList<string> Patterns { get; }

    /// <summary>The absolute path of the log file QEMU appends the events to.</summary>
    public string File { get; }

    /// <summary>Checks <paramref name="patterns"/> (comma-separated) and resolves <paramref name="file"/>.</summary>
    /// <exception cref="VmRuntimeException">BadInput: an empty list, a pattern QEMU would not read as event names, or no file.</exception>
    public static QemuTrace Create(string patterns, string file)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        string[] list = patterns.Split(',', StringSplitOptions.TrimEntries);
        if (list.Length == 0 || list.All(p => p.Length == 0))
            throw new VmRuntimeException(VmRuntimeFailure.BadInput, "Give at least one QEMU trace pattern (e.g. tpm_*).");
        foreach (string pattern in list)
        {
            // Anything else would be read by QEMU as another option of -trace (a comma, '='), as its help request ("help",
            // "?": it prints the list and exits), or names no event: trace event names are C identifiers.
            if (!EventPattern().IsMatch(pattern) || pattern is "help" or "?")
                throw new VmRuntimeException(VmRuntimeFailure.BadInput,
                    $"QEMU trace pattern '{pattern}' is not an event name or glob (letters, digits, '_', '*', '?'; see qemu-system-x86_64 -trace help).");
        }

        if (string.IsNullOrWhiteSpace(file))
            throw new VmRuntimeException(VmRuntimeFailure.BadInput, "QEMU trace events need a file to go to.");
        string full = Path.GetFullPath(file);
        if (Directory.Exists(full))
            throw new VmRuntimeException(VmRuntimeFailure.BadInput, $"QEMU trace file {full} is a directory.");
        if (!Directory.Exists(Path.GetDirectoryName(full)))
            throw new VmRuntimeException(VmRuntimeFailure.BadInput, $"The folder of QEMU trace file {full} does not exist.");
        return new QemuTrace(list, full);
    }

    [GeneratedRegex("^[A-Za-z0-9_*?]{1,128}$", RegexOptions.CultureInvariant)]
    private static partial Regex EventPattern();
}
