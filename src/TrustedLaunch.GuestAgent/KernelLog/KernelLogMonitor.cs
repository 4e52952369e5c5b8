using System.Text;
using TrustedLaunch.Attestation.Evidence;

namespace TrustedLaunch.GuestAgent.KernelLog;

/// <summary>
/// Follows the kernel log from its oldest record (opening /dev/kmsg starts there, so messages from before the agent
/// started are seen) and turns module-integrity and lockdown messages into <see cref="GuestFinding"/>s, each once.
/// </summary>
public sealed class KernelLogMonitor
{
    private readonly GuestSystem _system;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly List<GuestFinding> _findings = [];
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly DateTimeOffset _bootTime;

    public KernelLogMonitor(GuestSystem system, TimeProvider time)
    {
        _system = system ?? throw new ArgumentNullException(nameof(system));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _bootTime = time.GetUtcNow() - TimeSpan.FromSeconds(system.ReadUptimeSeconds() ?? 0);
    }

    /// <summary>Raised (on the reading thread) for each new finding.</summary>
    public event Action<GuestFinding>? FindingObserved;

    public IReadOnlyList<GuestFinding> Findings
    {
        get
        {
            lock (_gate)
                return [.. _findings];
        }
    }

    /// <summary>
    /// Reads <paramref name="kmsgPath"/> on a background thread until it ends (a regular file) or forever (/dev/kmsg
    /// blocks for new records). EPIPE (records overwritten before we read them) is skipped, as dmesg does.
    /// </summary>
    public Task StartAsync(string kmsgPath, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(log);
        return Task.Factory.StartNew(() =>
        {
            try
            {
                using var file = new FileStream(kmsgPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
                // dev-kmsg: each read returns one whole record; a buffer smaller than a record fails with EINVAL.
                using var reader = new StreamReader(file, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 16 * 1024);
                int failures = 0;
                while (true)
                {
                    string? line;
                    try
                    {
                        line = reader.ReadLine();
                        failures = 0;
                    }
                    catch (IOException) when (++failures < 64)
                    {
                        continue; // EPIPE: the next read resumes at the oldest record still in the buffer
                    }

                    if (line is null)
                        return;
                    Observe(line);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log($"kernel log {kmsgPath} unreadable, no kernel findings: {e.Message}");
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Classifies one /dev/kmsg line (header or continuation) and records what it reveals.</summary>
    public void Observe(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (!KernelLogRecord.TryParse(line, out KernelLogRecord record) || KernelLogClassifier.Classify(record) is not { } ev)
            return;
        DateTimeOffset at = _bootTime + TimeSpan.FromMicroseconds(record.MicrosecondsSinceBoot);
        switch (ev.Kind)
        {
            case KernelEventKind.ModuleRejected:
                IReadOnlyList<RejectedModuleFile> files = ModuleRejectionResolver.Resolve(_system.ReadImaMeasuredPaths(), _system.ReadLoadedModules());
                if (files.Count == 0)
                    Add(GuestFinding.Kinds.ModuleRejected, null, ev.Line, at);
                foreach (RejectedModuleFile file in files)
                    Add(GuestFinding.Kinds.ModuleRejected, file.Module, $"{ev.Line} [{file.Path}: measured by IMA for loading, not loaded]", at);
                break;
            case KernelEventKind.ModuleUnsignedLoaded:
                Add(GuestFinding.Kinds.ModuleUnsignedLoaded, ev.Module, ev.Line, at);
                break;
            case KernelEventKind.ModuleTaint:
                Add(GuestFinding.Kinds.Taint, ev.Module, ev.Line, at);
                break;
            case KernelEventKind.Lockdown:
                Add(GuestFinding.Kinds.Lockdown, null, ev.Line, at);
                break;
        }
    }

    private void Add(string kind, string? module, string message, DateTimeOffset at)
    {
        // One finding per module and kind: busybox insmod retries init_module after finit_module, logging twice.
        string key = module is null ? $"{kind}\n\n{message}" : $"{kind}\n{module}";
        var finding = new GuestFinding { Kind = kind, Module = module, Message = message, At = at };
        lock (_gate)
        {
            if (!_seen.Add(key))
                return;
            _findings.Add(finding);
        }

        FindingObserved?.Invoke(finding);
    }
}
