using System.Text;
using System.Text.RegularExpressions;

namespace TrustedLaunch.Runtime.Console;

/// <summary>
/// Reads a serial console as it streams in and decides the boot verdict as soon as the console shows one. The console
/// carries OVMF's BdsDxe messages, shim's and GRUB's screens (ANSI-positioned, CP437 box drawing) and the kernel's
/// and init's lines; cursor-positioning escapes are treated as line breaks so text drawn in a dialog box is read too.
/// </summary>
public sealed partial class ConsoleVerdictParser
{
    /// <summary>The prefix of the lines the TrustedLaunch guest image's init prints (docs/images.md).</summary>
    public const string GuestPrefix = "TL-GUEST: ";

    /// <summary>The init line that means "the guest is up".</summary>
    public const string BootedMarker = GuestPrefix + "booted";

    private readonly StringBuilder _line = new();
    private readonly Dictionary<string, string> _facts = new(StringComparer.Ordinal);
    private EscapeState _escape;
    private string? _currentBootOption;
    private TimeSpan? _now;
    private readonly List<BootStageReached> _stagesReached = [];

    /// <summary>The verdict once the console has shown one; null while the boot is still undecided.</summary>
    public BootVerdict? Verdict { get; private set; }

    /// <summary>How far the boot has got.</summary>
    public BootStage Stage { get; private set; } = BootStage.Firmware;

    public IReadOnlyDictionary<string, string> GuestFacts => _facts;

    /// <summary>When each stage was first seen, for bytes fed with a time (<see cref="Feed(ReadOnlySpan{byte}, TimeSpan)"/>).</summary>
    public IReadOnlyList<BootStageReached> StagesReached => _stagesReached;

    /// <summary>Every refusal seen (firmware may refuse several boot options before giving up).</summary>
    public IList<SecureBootRefusal> Refusals { get; } = [];

    /// <summary>The cleaned console text so far, line by line (what a person would read).</summary>
    public IList<string> Lines { get; } = [];

    /// <summary>Parses a whole console log at once (tests, post-mortems).</summary>
    public static ConsoleVerdictParser ParseAll(ReadOnlySpan<byte> console)
    {
        var parser = new ConsoleVerdictParser();
        parser.Feed(console);
        parser.Flush();
        return parser;
    }

    /// <summary>
    /// Consumes console bytes that arrived <paramref name="sinceLaunch"/> after the VM started, so the stages they reach
    /// are timed (<see cref="StagesReached"/>): how long the firmware, GRUB and the kernel each took.
    /// </summary>
    public void Feed(ReadOnlySpan<byte> bytes, TimeSpan sinceLaunch)
    {
        _now = sinceLaunch;
        Feed(bytes);
    }

    /// <summary>Consumes more console bytes; partial lines are kept until their end arrives.</summary>
    public void Feed(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            switch (_escape)
            {
                case EscapeState.None when b == 0x1B:
                    _escape = EscapeState.Escape;
                    break;
                case EscapeState.None when b is (byte)'\n' or (byte)'\r':
                    EndLine();
                    break;
                case EscapeState.None:
                    // Printable ASCII only: the rest is box drawing (CP437) or control noise.
                    _line.Append(b is >= 0x20 and < 0x7F || b == '\t' ? (char)b : ' ');
                    break;
                case EscapeState.Escape:
                    _escape = b == '[' ? EscapeState.ControlSequence : EscapeState.None;
                    break;
                case EscapeState.ControlSequence when b is >= 0x40 and <= 0x7E:
                    // ECMA-48 final byte. CUP (H/f) and ED (J) move or clear the screen: a new line of text starts.
                    if (b is (byte)'H' or (byte)'f' or (byte)'J')
                        EndLine();
                    _escape = EscapeState.None;
                    break;
                case EscapeState.ControlSequence:
                    break;
                default:
                    _escape = EscapeState.None;
                    break;
            }
        }
    }

    /// <summary>Treats a pending partial line as complete (end of the log).</summary>
    public void Flush() => EndLine();

    /// <summary>Forces a verdict when the boot ended without one: QEMU exited, or time ran out.</summary>
    public BootVerdict Conclude(BootOutcome outcome, string reason)
    {
        Flush();
        if (Verdict is null && Refusals.Count > 0)
        {
            // A refused boot disk followed by silence (another boot option hanging, PXE) is still a refusal.
            Refuse(Refusals[0]);
        }

        Verdict ??= new BootVerdict
        {
            Outcome = outcome,
            Summary = $"{reason} (last stage: {Describe(Stage)})",
            Stage = Stage,
            StagesReached = [.. _stagesReached],
            GuestFacts = new Dictionary<string, string>(_facts, StringComparer.Ordinal),
        };
        return Verdict;
    }

    private void EndLine()
    {
        if (_line.Length == 0)
            return;
        string text = _line.ToString().Trim();
        _line.Clear();
        if (text.Length == 0)
            return;
        Lines.Add(text);
        if (Verdict is null)
            Interpret(text);
    }

    private void Interpret(string line)
    {
        Match m;
        if ((m = BdsStarting().Match(line)).Success)
        {
            _currentBootOption = $"{m.Groups["option"].Value} \"{m.Groups["description"].Value}\"";
            Advance(BootStage.BootOptionStarted);
        }
        else if ((m = BdsFailed().Match(line)).Success)
        {
            string words = m.Groups["status"].Value;
            // edk2 BmBoot.c: an image refused by DxeImageVerificationLib fails LoadImage with EFI_ACCESS_DENIED or
            // EFI_SECURITY_VIOLATION; other statuses (Not Found, …) are not Secure Boot's doing.
            // The firmware then tries the next boot option, so a refusal is not decisive yet. Refusals of the firmware's
            // own built-in applications (device path "Fv(...)", e.g. the unsigned EFI shell in Debian's secboot build)
            // are not about the guest's disk and are not counted.
            string path = m.Groups["path"].Value;
            if (words is "Access Denied" or "Security Violation" && !path.StartsWith("Fv(", StringComparison.Ordinal))
            {
                string image = $"{m.Groups["option"].Value} \"{m.Groups["description"].Value}\" from {path}";
                Refusals.Add(new SecureBootRefusal(RefusingComponent.Firmware, image,
                    $"BdsDxe: failed to {m.Groups["verb"].Value} {m.Groups["option"].Value}: {words}"));
            }
        }
        else if (line.StartsWith("BdsDxe: No bootable option or device was found", StringComparison.Ordinal))
        {
            if (Refusals.Count > 0)
                Refuse(Refusals[0]);
            else
                Decide(BootOutcome.NoBootableDevice, "the firmware found no bootable option or device");
        }
        else if ((m = ShimVerificationFailed().Match(line)).Success)
        {
            // shim (shim.c verify_image / console_error) draws this in a dialog; the image is its second stage.
            // shim waits in that dialog for a key, so this is decisive.
            string image = $"the second stage shim loads (\\EFI\\BOOT\\grubx64.efi by default) for {_currentBootOption ?? "the boot option"}";
            Refusals.Add(new SecureBootRefusal(RefusingComponent.Shim, image, m.Value.Trim()));
            Refuse(Refusals[^1]);
        }
        else if (line.Contains("bad shim signature", StringComparison.Ordinal) ||
                 line.Contains("prohibited by secure boot policy", StringComparison.Ordinal))
        {
            Refusals.Add(new SecureBootRefusal(RefusingComponent.Grub, "the kernel GRUB was told to load", line));
            Refuse(Refusals[^1]);
        }
        else if (line.Contains("Welcome to GRUB!", StringComparison.Ordinal))
        {
            Advance(BootStage.Grub);
        }
        else if (line.StartsWith("grub>", StringComparison.Ordinal))
        {
            Decide(BootOutcome.Failed, "GRUB stopped at its prompt: no usable grub.cfg or kernel");
        }
        else if ((m = KernelPanic().Match(line)).Success)
        {
            Decide(BootOutcome.Failed, $"kernel panic: {m.Groups["reason"].Value}");
        }
        else if (line.StartsWith(GuestPrefix, StringComparison.Ordinal))
        {
            Advance(BootStage.Init);
            string fact = line[GuestPrefix.Length..];
            int eq = fact.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
                _facts[fact[..eq]] = fact[(eq + 1)..];
            else if (fact == "booted")
                Decide(BootOutcome.Booted, DescribeBooted());
        }
        else if (line.EndsWith(" login:", StringComparison.Ordinal))
        {
            Decide(BootOutcome.Booted, "the guest shows a login prompt");
        }
        else if (KernelTimestamp().IsMatch(line) || line.StartsWith("EFI stub:", StringComparison.Ordinal))
        {
            Advance(BootStage.Kernel);
        }
    }

    private string DescribeBooted()
    {
        var parts = new List<string>();
        if (_facts.TryGetValue("secure-boot", out string? sb))
            parts.Add($"Secure Boot {sb}");
        if (_facts.TryGetValue("tpm", out string? tpm))
            parts.Add(tpm == "none" ? "no TPM" : $"TPM {tpm}");
        return parts.Count == 0 ? "the guest is up" : $"the guest is up: {string.Join(", ", parts)}";
    }

    private void Refuse(SecureBootRefusal refusal)
    {
        Decide(BootOutcome.SecureBootViolation, $"Secure Boot refused {refusal.Image} ({refusal.RefusedBy}: {refusal.Message})", refusal);
    }

    private void Decide(BootOutcome outcome, string summary, SecureBootRefusal? refusal = null)
    {
        Verdict ??= new BootVerdict
        {
            Outcome = outcome,
            Summary = summary,
            Refusal = refusal,
            Stage = Stage,
            StagesReached = [.. _stagesReached],
            GuestFacts = new Dictionary<string, string>(_facts, StringComparer.Ordinal),
        };
    }

    private void Advance(BootStage stage)
    {
        if (stage <= Stage)
            return;
        Stage = stage;
        if (_now is TimeSpan now)
            _stagesReached.Add(new BootStageReached(stage, now));
    }

    private static string Describe(BootStage stage) => stage switch
    {
        BootStage.Firmware => "firmware",
        BootStage.BootOptionStarted => "boot option started",
        BootStage.Grub => "GRUB",
        BootStage.Kernel => "kernel",
        BootStage.Init => "init",
        _ => stage.ToString(),
    };

    // edk2 MdeModulePkg/Library/UefiBootManagerLib/BmBoot.c: "BdsDxe: %a Boot%04x \"%s\" from %s" (loading/starting),
    // and on failure "BdsDxe: failed to %a Boot%04x \"%s\" from %s: %r".
    [GeneratedRegex("""^BdsDxe: (loading|starting) (?<option>Boot[0-9A-F]{4}) "(?<description>[^"]*)" from (?<path>.*)$""")]
    private static partial Regex BdsStarting();

    [GeneratedRegex("""^BdsDxe: failed to (?<verb>load|start) (?<option>Boot[0-9A-F]{4}) "(?<description>[^"]*)" from (?<path>.*): (?<status>[A-Za-z ]+)$""")]
    private static partial Regex BdsFailed();

    [GeneratedRegex(@"Verification failed: \(0x[0-9A-Fa-f]+\) [A-Za-z ]+")]
    private static partial Regex ShimVerificationFailed();

    [GeneratedRegex(@"Kernel panic - not syncing: (?<reason>.*)$")]
    private static partial Regex KernelPanic();

    [GeneratedRegex(@"^\[\s*\d+\.\d{6}\] ")]
    private static partial Regex KernelTimestamp();

    private enum EscapeState
    {
        None,
        Escape,
        ControlSequence,
    }
}
