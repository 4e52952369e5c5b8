using System.Globalization;

namespace TrustedLaunch.VTpm.Host;

/// <summary>
/// swtpm-style <c>--log file=F,level=N</c>: errors always go to the log (or stderr when there is none);
/// level ≥ 1 adds lifecycle lines, level ≥ 5 every control command, level ≥ 20 every data-channel command.
/// </summary>
internal sealed class HostLog : IDisposable
{
    private readonly Lock _gate = new();
    private readonly TextWriter _writer;
    private readonly int _level;
    private readonly bool _ownsWriter;

    public HostLog(string? path, int level)
    {
        _level = level;
        if (path is null)
        {
            _writer = Console.Error;
        }
        else
        {
            _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            _ownsWriter = true;
        }
    }

    /// <summary>True when a log file was given (stderr is then left to the caller's own messages).</summary>
    public bool HasFile => _ownsWriter;

    public void Error(string message) => Write(0, "error", message);

    public void Info(string message) => Write(1, "info", message);

    public void Debug(string message) => Write(5, "debug", message);

    /// <summary>The level of one line per TPM command (swtpm logs its per-command traffic at 20 too).</summary>
    public const int CommandLevel = 20;

    /// <summary>Whether <see cref="Command"/> lines are written: check first, so a command's line is never formatted for nothing.</summary>
    public bool LogsCommands => _ownsWriter && _level >= CommandLevel;

    public void Command(string message) => Write(CommandLevel, "cmd", message);

    private void Write(int level, string kind, string message)
    {
        if (level > _level || (level > 0 && !_ownsWriter))
            return;
        lock (_gate)
            _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} tl-vtpm[{Environment.ProcessId}] {kind}: {message}"));
    }

    public void Dispose()
    {
        if (_ownsWriter)
            _writer.Dispose();
    }
}
