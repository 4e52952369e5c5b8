using System.Globalization;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>Where a measured string that carries kernel arguments came from.</summary>
public enum KernelArgumentOrigin
{
    /// <summary>A command line handed to the kernel: GRUB's <c>kernel_cmdline:</c> string or systemd-boot's UTF-16 load options.</summary>
    CommandLine,

    /// <summary>A GRUB <c>linux</c>/<c>linuxefi</c>/<c>linux16</c> command that ran: the kernel path and its arguments.</summary>
    LinuxCommand,

    /// <summary>A <c>linux</c> line inside a measured <c>menuentry</c>/<c>submenu</c> definition (defined, not necessarily run).</summary>
    MenuEntry,
}

/// <summary>One measured string that can carry kernel arguments, as proven by its PCR 8/12 digest.</summary>
public sealed record KernelArgumentSource(int EventIndex, uint PcrIndex, KernelArgumentOrigin Origin, string Arguments)
{
    /// <summary>True for what ran (a command line or a linux command), false for a menu entry's definition.</summary>
    public bool Executed => Origin != KernelArgumentOrigin.MenuEntry;
}

/// <summary>
/// Finds every measured string that can carry kernel arguments and pairs GRUB's <c>linux</c> commands with the
/// command lines they produced. GRUB's digest covers the text after its <c>grub_cmd:</c>/<c>kernel_cmdline:</c>
/// prefix, not the prefix, so the kind a string claims is unproven: roles come from the text (a string whose first
/// word is <c>linux</c> is a linux command under any label), and each <c>linux</c> command must be followed by a command
/// line with the same arguments and each GRUB command line must follow one (grub linux.c measures both) — otherwise a
/// relabelled or appended string would hide the arguments the kernel really got.
/// </summary>
internal sealed class KernelArguments
{
    private static readonly string[] LinuxCommands = ["linux", "linuxefi", "linux16"];
    private readonly List<KernelArgumentSource> _sources = [];
    private readonly List<(int EventIndex, string Normalized)> _unpairedLinux = [];
    private readonly List<string> _findings = [];

    public IReadOnlyList<KernelArgumentSource> Sources => _sources;

    /// <summary>Adds one proven PCR 8/12 string, in log order.</summary>
    public void Add(TcgEvent ev, IplEventData ipl)
    {
        string text = ipl.Text.Trim();
        if (TryLinuxArguments(text, out ReadOnlySpan<char> arguments))
        {
            string linux = arguments.ToString();
            _sources.Add(new KernelArgumentSource(ev.Index, ev.PcrIndex, KernelArgumentOrigin.LinuxCommand, linux));
            _unpairedLinux.Add((ev.Index, Normalize(linux)));
            return;
        }

        switch (ipl.Kind)
        {
            case IplEventKind.KernelCommandLine:
                _sources.Add(new KernelArgumentSource(ev.Index, ev.PcrIndex, KernelArgumentOrigin.CommandLine, text));
                Pair(ev.Index, text);
                return;
            case IplEventKind.LoadOptions:
                // systemd-boot and the stub measure the load options with no command of their own to pair with.
                _sources.Add(new KernelArgumentSource(ev.Index, ev.PcrIndex, KernelArgumentOrigin.CommandLine, text));
                return;
            default:
                ReadOnlySpan<char> first = FirstWord(text);
                if (first.SequenceEqual("menuentry") || first.SequenceEqual("submenu"))
                {
                    foreach (ReadOnlySpan<char> line in text.AsSpan().EnumerateLines())
                    {
                        if (TryLinuxArguments(line.Trim(), out ReadOnlySpan<char> defined))
                            _sources.Add(new KernelArgumentSource(ev.Index, ev.PcrIndex, KernelArgumentOrigin.MenuEntry, defined.ToString()));
                    }
                }

                return;
        }
    }

    /// <summary>Pairing findings: a command line no linux command produced, a linux command whose command line is missing.</summary>
    public IReadOnlyList<string> Findings()
    {
        var findings = new List<string>(_findings);
        foreach ((int index, _) in _unpairedLinux)
        {
            findings.Add(string.Create(CultureInfo.InvariantCulture,
                $"PCR 8: GRUB linux command #{index} has no kernel command line with the same arguments after it"));
        }

        return findings;
    }

    private void Pair(int eventIndex, string commandLine)
    {
        string normalized = Normalize(commandLine);
        for (int i = _unpairedLinux.Count - 1; i >= 0; i--)
        {
            if (string.Equals(_unpairedLinux[i].Normalized, normalized, StringComparison.Ordinal))
            {
                _unpairedLinux.RemoveAt(i);
                return;
            }
        }

        _findings.Add(string.Create(CultureInfo.InvariantCulture,
            $"PCR 8: kernel command line #{eventIndex} follows no GRUB linux command with the same arguments"));
    }

    private static bool TryLinuxArguments(ReadOnlySpan<char> text, out ReadOnlySpan<char> arguments)
    {
        ReadOnlySpan<char> word = FirstWord(text);
        foreach (string command in LinuxCommands)
        {
            if (word.SequenceEqual(command))
            {
                arguments = text[word.Length..].Trim();
                return true;
            }
        }

        arguments = default;
        return false;
    }

    private static ReadOnlySpan<char> FirstWord(ReadOnlySpan<char> text)
    {
        int end = text.IndexOfAny(" \t\n");
        return end < 0 ? text : text[..end];
    }

    // grub lib/cmdline.c quotes arguments with spaces and escapes quotes and backslashes for the kernel, while the
    // command string joins the expanded arguments as they are: compare without quoting and with single spaces.
    private static string Normalize(string arguments) =>
        string.Join(' ', arguments.Replace("\"", "", StringComparison.Ordinal).Replace("\\", "", StringComparison.Ordinal)
            .Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries));
}
