using Microsoft.Extensions.Logging;

namespace TrustedLaunch.Cli;

/// <summary>
/// Log lines to the invocation's stderr (<c>tl host: VM …: started</c>), for the commands that run a long-lived agent:
/// one line per event, the exception's message (not its stack) on a failure, information and above.
/// </summary>
internal sealed class LineLoggerProvider(TextWriter output, string prefix) : ILoggerProvider
{
    private readonly Lock _gate = new();

    public ILogger CreateLogger(string categoryName) => new LineLogger(this);

    public void Dispose()
    {
    }

    private void Write(string line)
    {
        lock (_gate)
            output.WriteLine($"{prefix}: {line}");
    }

    private sealed class LineLogger(LineLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            if (!IsEnabled(logLevel))
                return;
            string level = logLevel >= LogLevel.Warning ? $"{logLevel.ToString().ToLowerInvariant()}: " : "";
            provider.Write($"{level}{formatter(state, exception)}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")}");
        }
    }
}
