using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.EventLog;

internal static class EventLogCommands
{
    public static Command Create()
    {
        var command = new Command("eventlog", "Parse, replay and summarise TCG event logs (measured boot).");
        return command;
    }
}
