using TrustedLaunch.HostSystem.Processes;

namespace TrustedLaunch.Runtime.Console;

/// <summary>
/// Tails the serial console file QEMU writes and feeds the parser, so the verdict is known while the VM still runs.
/// Polling (every 50 ms) keeps this independent of inotify limits and works for any file system the log is on.
/// </summary>
internal sealed class ConsoleFollower : IAsyncDisposable
{
    private readonly string _path;
    private readonly ISupervisedProcess _qemu;
    private readonly DateTime _startedAt;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<BootVerdict> _verdict = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly Task _loop;

    public ConsoleFollower(string path, ISupervisedProcess qemu, DateTime startedAt)
    {
        _path = path;
        _qemu = qemu;
        _startedAt = startedAt;
        _loop = Task.Run(FollowAsync);
    }

    public ConsoleVerdictParser Parser { get; } = new();

    public Task<BootVerdict> Verdict => _verdict.Task;

    /// <summary>Ends the wait with <paramref name="outcome"/> unless the console already decided.</summary>
    public BootVerdict Conclude(BootOutcome outcome, string reason)
    {
        lock (_gate)
        {
            BootVerdict verdict = Parser.Conclude(outcome, reason) with { Elapsed = DateTime.UtcNow - _startedAt };
            _verdict.TrySetResult(verdict);
            return _verdict.Task.Result;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Expected.
        }

        _stop.Dispose();
    }

    private async Task FollowAsync()
    {
        byte[] buffer = new byte[64 * 1024];
        long offset = 0;
        while (true)
        {
            bool exited = _qemu.HasExited;
            offset = ReadNew(buffer, offset);
            if (_verdict.Task.IsCompleted && exited)
                return;
            if (exited)
            {
                int? code = await _qemu.Ended.ConfigureAwait(false);
                string stderr = _qemu.StandardErrorTail;
                Conclude(BootOutcome.Failed, $"QEMU exited{(code is int c ? $" (code {c})" : "")} before a verdict{(stderr.Length > 0 ? ": " + stderr : "")}");
                return;
            }

            await Task.Delay(50, _stop.Token).ConfigureAwait(false);
        }
    }

    private long ReadNew(byte[] buffer, long offset)
    {
        try
        {
            using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Position = offset;
            int n;
            while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                offset += n;
                lock (_gate)
                {
                    Parser.Feed(buffer.AsSpan(0, n), DateTime.UtcNow - _startedAt);
                    if (Parser.Verdict is BootVerdict verdict)
                        _verdict.TrySetResult(verdict with { Elapsed = DateTime.UtcNow - _startedAt });
                }
            }
        }
        catch (FileNotFoundException)
        {
            // QEMU has not created it yet.
        }

        return offset;
    }
}
