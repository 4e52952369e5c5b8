using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.EventLog;

/// <summary><c>tl eventlog show|replay|summary</c>: the measured-boot engine on a TCG event log file.</summary>
internal static class EventLogCommands
{
    public static Command Create()
    {
        var command = new Command("eventlog", "Parse, replay and summarise TCG event logs (measured boot).");
        command.Subcommands.Add(EventLogShowCommand.Create());
        command.Subcommands.Add(EventLogReplayCommand.Create());
        command.Subcommands.Add(EventLogSummaryCommand.Create());
        return command;
    }
}
