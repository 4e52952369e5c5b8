using System.CommandLine;
using System.Globalization;
using TrustedLaunch.Tcg.EventLog;

namespace TrustedLaunch.Cli.Commands.EventLog;

/// <summary><c>tl eventlog show LOG [--json]</c>: every event, decoded. Exit 0, or 2 when the log is malformed.</summary>
internal static class EventLogShowCommand
{
    public static Command Create()
    {
        var log = EventLogInput.LogArgument();
        var json = EventLogInput.JsonOption();
        var command = new Command("show", "List every event with its PCR, type, digest and decoded data. Exit 0 ok, 2 malformed log.") { log, json };
        command.SetAction(parse => Run(parse.GetValue(log)!, parse.GetValue(json), parse.Out()));
        return command;
    }

    private static int Run(FileInfo file, bool json, TextWriter o)
    {
        var log = EventLogInput.Load(file);
        if (json)
        {
            CliJson.Write(EventLogJson.Log(file.Name, log), EventLogJsonContext.Shapes.LogJson, o);
            return (int)ExitCode.Ok;
        }

        var bank = EventLogInput.PreferredBank(log);
        string banks = string.Join(" ", log.Algorithms.Select(a => EventLogInput.Bank(a.Algorithm)));
        string extra = (log.StartupLocality is byte l ? $", StartupLocality {l}" : "")
            + (log.TrailingZeroBytes > 0 ? string.Create(CultureInfo.InvariantCulture, $", {log.TrailingZeroBytes} padding bytes") : "");
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{file.Name}: {(log.Format == TcgEventLogFormat.CryptoAgile ? "crypto-agile" : "SHA-1")} log, banks {banks}, {log.Events.Count} events{extra}"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"#",4} {"PCR",3}  {"TYPE",-34} {EventLogInput.Bank(bank) + " DIGEST",-18} DATA"));
        foreach (var ev in log.Events)
        {
            string digest = ev.TryGetDigest(bank, out var d) ? Convert.ToHexString(d.Span)[..16] + "…" :
                ev.Digests.Count > 0 ? "(" + EventLogInput.Bank(ev.Digests[0].Algorithm) + ")" : "-";
            string data = TcgEventDataDecoder.TryDecode(ev, out var decoded, out string? error) ? decoded!.Describe() : $"MALFORMED: {error}";
            if (data.Length > 160)
                data = data[..157] + "...";
            string pcr = ev.PcrIndex == uint.MaxValue ? "-1" : ev.PcrIndex.ToString(CultureInfo.InvariantCulture);
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ev.Index,4} {pcr,3}  {ev.TypeName,-34} {digest,-18} {data}"));
        }

        return (int)ExitCode.Ok;
    }
}
