using System.CommandLine;
using System.Globalization;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tcg.EventLog;

namespace TrustedLaunch.Cli.Commands.EventLog;

/// <summary>
/// <c>tl eventlog replay LOG [--pcrs FILE] [--json]</c>: replays every bank. Without --pcrs prints the replayed values
/// (in the --pcrs file format). With --pcrs exit 0 when every given PCR matches, 1 listing the mismatches; PCRs the log
/// does not cover are reported, not failed; a firmware that skipped the ExitBootServices events is recognised.
/// </summary>
internal static class EventLogReplayCommand
{
    public static Command Create() => EventLogInput.LogAndPcrsCommand("replay",
        "Replay the log in every bank and compare with PCR values. Exit 0 all given PCRs match (or no --pcrs), 1 some mismatch, 2 malformed input.",
        Run);

    private static int Run(FileInfo file, FileInfo? pcrFile, bool json, TextWriter o)
    {
        var log = EventLogInput.Load(file);
        var expected = EventLogInput.LoadPcrs(pcrFile);
        var replay = EventLogReplay.Replay(log, OpenSslTpmDigest.Instance);
        var comparison = expected is null ? null : replay.CompareWith(expected);
        if (json)
        {
            CliJson.Write(EventLogJson.Replay(file.Name, replay, comparison), EventLogJsonContext.Shapes.ReplayJson, o);
            return comparison is null || comparison.Passed ? (int)ExitCode.Ok : (int)ExitCode.VerificationFailed;
        }

        if (comparison is null)
        {
            o.WriteLine($"# {file.Name}: replayed {log.Events.Count} events" + (log.StartupLocality is byte l ? $", PCR0 starts at locality {l}" : ""));
            foreach (var bank in replay.Banks)
            {
                if (!bank.IsComputable)
                {
                    o.WriteLine($"# {bank.BankName}: this machine cannot compute this hash");
                    continue;
                }

                for (int pcr = 0; pcr < TcgEventLog.PcrCount; pcr++)
                {
                    if (bank.IsCovered(pcr))
                        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bank.BankName} {pcr} {Convert.ToHexString(bank.Value(pcr))}"));
                }
            }

            return (int)ExitCode.Ok;
        }

        foreach (var group in comparison.Checks.GroupBy(c => c.BankName))
        {
            var covered = group.Where(c => c.Verdict != PcrVerdict.NotCovered).Select(c => c.Index.ToString(CultureInfo.InvariantCulture) + (c.Verdict switch
            {
                PcrVerdict.Match => "",
                PcrVerdict.MissingExitBootServices => "*",
                _ => "!",
            }));
            var notCovered = group.Where(c => c.Verdict == PcrVerdict.NotCovered).Select(c => c.Index.ToString(CultureInfo.InvariantCulture));
            o.WriteLine($"{group.Key,-7} checked {string.Join(",", covered),-40} not covered {(notCovered.Any() ? string.Join(",", notCovered) : "-")}");
        }

        foreach (var c in comparison.Checks.Where(c => c.Verdict == PcrVerdict.MissingExitBootServices))
            o.WriteLine($"note: {c.BankName}[{c.Index}] {c.Detail}");
        foreach (var c in comparison.Checks.Where(c => c.Verdict == PcrVerdict.NotCovered && !c.ExpectedIsResetValue && c.Detail is not null))
            o.WriteLine($"note: {c.BankName}[{c.Index}] not covered: {c.Detail}");
        var mismatches = comparison.Mismatches.ToList();
        foreach (var c in mismatches)
        {
            o.WriteLine($"MISMATCH {c.BankName}[{c.Index}] ({c.EventCount} events)");
            o.WriteLine($"  expected {Convert.ToHexString(c.Expected.Span)}");
            o.WriteLine($"  replayed {Convert.ToHexString(c.Replayed.Span)}");
        }

        int matched = comparison.Checks.Count(c => c.Verdict is PcrVerdict.Match or PcrVerdict.MissingExitBootServices);
        o.WriteLine(mismatches.Count == 0
            ? $"OK: {matched} PCRs match, {comparison.NotCovered.Count()} not covered by the log"
            : $"FAILED: {mismatches.Count} PCRs do not match ({string.Join(", ", mismatches.Select(c => $"{c.BankName}[{c.Index}]"))}), {matched} match");
        return mismatches.Count == 0 ? (int)ExitCode.Ok : (int)ExitCode.VerificationFailed;
    }
}
