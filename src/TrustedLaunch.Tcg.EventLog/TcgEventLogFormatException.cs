namespace TrustedLaunch.Tcg.EventLog;

/// <summary>A TCG event log (or one event's data) is malformed: truncated, inconsistent or not a log at all.</summary>
public class TcgEventLogFormatException : Exception
{
    public TcgEventLogFormatException() { }

    public TcgEventLogFormatException(string message) : base(message) { }

    public TcgEventLogFormatException(string message, Exception innerException) : base(message, innerException) { }

    public TcgEventLogFormatException(long offset, string reason)
        : base($"Malformed TCG event log at byte offset {offset}: {reason}")
    {
        Offset = offset;
        Reason = reason;
    }

    /// <summary>Byte offset in the log where the problem was found, or -1 when unknown.</summary>
    public long Offset { get; } = -1;

    /// <summary>The reason without the offset prefix.</summary>
    public string Reason { get; } = "";
}
