using BenchmarkDotNet.Attributes;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Benchmarks.EventLog;

/// <summary>
/// Parse + replay + summary of corpus logs: the largest by bytes (option ROM, SHA-1, 72 KB) and the largest by
/// events×banks (keylime Fedora, 121 events, sha1+sha256), plus the QEMU capture with 4 banks.
/// Goal (issue 2): under 50 µs and 64 KB allocated per log.
/// </summary>
[MemoryDiagnoser]
public class EventLogBenchmarks
{
    private byte[] _log = [];
    private IReadOnlyList<PcrValue>? _pcrs;

    [Params("public/go-attestation-option_rom_eventlog", "public/keylime-binary_bios_measurements", "qemu/ovmf4m-ms-sb-crb")]
    public string Log { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        string dir = Path.Combine(RepositoryPaths.CorpusRoot, Log);
        _log = File.ReadAllBytes(Path.Combine(dir, "binary_bios_measurements"));
        string pcrs = Path.Combine(dir, "pcrs.txt");
        _pcrs = File.Exists(pcrs) ? PcrValue.ParseList(File.ReadAllText(pcrs)) : null;
    }

    [Benchmark]
    public int Parse() => TcgEventLog.Parse(_log).Events.Count;

    [Benchmark]
    public bool ParseReplayCompare()
    {
        var replay = EventLogReplay.Replay(TcgEventLog.Parse(_log), OpenSslTpmDigest.Instance);
        return _pcrs is null || replay.CompareWith(_pcrs).Passed;
    }

    [Benchmark]
    public int ParseReplaySummary()
    {
        var log = TcgEventLog.Parse(_log);
        var summary = BootStateSummarizer.Summarize(log, _pcrs, OpenSslTpmDigest.Instance);
        return summary.BootApplications.Count + summary.GrubCommands.Count;
    }
}
