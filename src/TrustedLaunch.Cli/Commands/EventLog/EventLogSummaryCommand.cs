using System.CommandLine;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tcg.EventLog;

namespace TrustedLaunch.Cli.Commands.EventLog;

/// <summary>
/// <c>tl eventlog summary LOG [--pcrs FILE] [--json]</c>: the boot state, from replayed events only. Exit 0; 1 when
/// --pcrs is given and some PCR mismatches (the summary then omits that PCR's events); 2 malformed input.
/// </summary>
internal static class EventLogSummaryCommand
{
    public static Command Create() => EventLogInput.LogAndPcrsCommand("summary",
        "Summarise the boot (Secure Boot, keys, authorities, boot applications, grub, kernel command line, Windows claims) from replayed events only. Exit 0 ok, 1 PCR mismatch with --pcrs, 2 malformed input.",
        Run);

    private static int Run(FileInfo file, FileInfo? pcrFile, bool json, TextWriter o)
    {
        var log = EventLogInput.Load(file);
        var expected = EventLogInput.LoadPcrs(pcrFile);
        var replay = EventLogReplay.Replay(log, OpenSslTpmDigest.Instance);
        var comparison = expected is null ? PcrComparison.SelfConsistent(replay) : replay.CompareWith(expected);
        var summary = BootStateSummarizer.Summarize(comparison, OpenSslTpmDigest.Instance);
        int exit = comparison.Passed ? (int)ExitCode.Ok : (int)ExitCode.VerificationFailed;
        if (json)
        {
            CliJson.Write(EventLogJson.Summary(file.Name, summary, comparison), EventLogJsonContext.Shapes.SummaryJson, o);
            return exit;
        }

        EventLogSummaryText.Write(o, file.Name, summary, comparison);
        return exit;
    }
}
