using System.CommandLine;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Cli.Commands.EventLog;

/// <summary>Loading a log and a PCR file for the eventlog commands, with input errors mapped to exit code 2.</summary>
internal static class EventLogInput
{
    public static Argument<FileInfo> LogArgument() => new("LOG")
    {
        Description = "The binary event log, e.g. /sys/kernel/security/tpm0/binary_bios_measurements.",
    };

    public static Option<FileInfo?> PcrsOption() => new("--pcrs")
    {
        Description = "PCR values to compare with: lines '<bank> <index> <hex>' (e.g. 'sha256 7 AB12…'), as in the corpus pcrs.txt.",
    };

    public static Option<bool> JsonOption() => CliOptions.Json("Print everything as JSON.");

    /// <summary>A subcommand over <c>LOG [--pcrs FILE] [--json]</c>, the shape replay and summary share.</summary>
    public static Command LogAndPcrsCommand(string name, string description, Func<FileInfo, FileInfo?, bool, TextWriter, int> run)
    {
        var log = LogArgument();
        var pcrs = PcrsOption();
        var json = JsonOption();
        var command = new Command(name, description) { log, pcrs, json };
        command.SetAction(parse => run(parse.GetValue(log)!, parse.GetValue(pcrs), parse.GetValue(json), parse.Out()));
        return command;
    }

    public static TcgEventLog Load(FileInfo file)
    {
        byte[] bytes = Read(file);
        if (!TcgEventLog.TryParse(bytes, out var log, out string? error, out int offset))
            throw new CliException(ExitCode.BadInput, $"{file.Name} is not a valid TCG event log: at byte offset {offset}: {error}");
        return log!;
    }

    public static IReadOnlyList<PcrValue>? LoadPcrs(FileInfo? file)
    {
        if (file is null)
            return null;
        string text = System.Text.Encoding.UTF8.GetString(Read(file));
        try
        {
            return PcrValue.ParseList(text);
        }
        catch (FormatException e)
        {
            throw new CliException(ExitCode.BadInput, $"{file.Name}: {e.Message}");
        }
    }

    private static byte[] Read(FileInfo file)
    {
        if (!file.Exists)
            throw new CliException(ExitCode.BadInput, $"{file.FullName} does not exist.");
        try
        {
            return File.ReadAllBytes(file.FullName);
        }
        catch (IOException e)
        {
            throw new CliException(ExitCode.BadInput, $"cannot read {file.FullName}: {e.Message}");
        }
    }

    public static string Bank(TpmAlgId alg) => TpmHashAlgorithm.BankName(alg) ?? $"0x{(ushort)alg:X4}";

    /// <summary>The strongest bank the log carries, for one-digest-per-line human output.</summary>
    public static TpmAlgId PreferredBank(TcgEventLog log) =>
        log.Algorithms.Select(a => a.Algorithm).OrderByDescending(a => a switch
        {
            TpmAlgId.Sha256 => 3,
            TpmAlgId.Sha384 => 2,
            TpmAlgId.Sha512 => 1,
            TpmAlgId.Sha1 => 0,
            _ => -1,
        }).First();
}
