using System.Diagnostics;
using TrustedLaunch.Tcg.EventLog;

namespace TrustedLaunch.Tcg.EventLog.Tests.Robustness;

/// <summary>Truncated and corrupted real logs end in a typed format error or a replay mismatch, never another exception or a hang.</summary>
public class HostileInputTests
{
    [Theory]
    [InlineData("qemu", "ovmf4m-ms-sb-crb")]
    [InlineData("public", "go-attestation-windows_gcp_shielded_vm")]
    [InlineData("public", "go-tpm-tools-rhel8-uefi")]
    public void Parse_TruncatedAtEveryOffset_TypedErrorOrMismatch(string kind, string name)
    {
        var corpus = kind == "qemu" ? CorpusLog.Qemu(name) : CorpusLog.Public(name);
        byte[] bytes = corpus.Bytes!;
        var watch = Stopwatch.StartNew();
        int parsedShort = 0;
        int fullMatches = EventLogReplay.Replay(corpus.Parse()).CompareWith(corpus.Pcrs!).Checks.Count(c => c.Verdict == PcrVerdict.Match);
        for (int length = 0; length < bytes.Length; length++)
        {
            var prefix = bytes.AsMemory(0, length);
            bool ok = TcgEventLog.TryParse(prefix, out var log, out string? error, out int offset);
            if (!ok)
            {
                Assert.False(string.IsNullOrEmpty(error));
                Assert.InRange(offset, 0, length);
                Assert.Throws<TcgEventLogFormatException>(() => TcgEventLog.Parse(prefix));
                continue;
            }

            // A cut exactly at a record boundary is a valid, shorter log: it must then mismatch, or leave PCRs the
            // full log verifies uncovered (an appraisal requiring those PCRs then fails).
            parsedShort++;
            Exercise(log!);
            var comparison = EventLogReplay.Replay(log!).CompareWith(corpus.Pcrs!);
            int matches = comparison.Checks.Count(c => c.Verdict == PcrVerdict.Match);
            Assert.True(!comparison.Passed || matches < fullMatches, $"prefix of {length} bytes verified as much as the full log");
        }

        Assert.InRange(parsedShort, 1, bytes.Length);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"took {watch.Elapsed}");
    }

    [Theory]
    [InlineData("qemu", "ovmf4m-ms-sb-crb", 1)]
    [InlineData("public", "go-attestation-option_rom_eventlog", 2)]
    [InlineData("public", "go-tpm-tools-gdc-host", 3)]
    [InlineData("public", "tpm2-tools-event-moklisttrusted", 4)]
    public void Parse_RandomByteFlips_TypedErrorOrMismatchOrUncoveredByte(string kind, string name, int seed)
    {
        var corpus = kind == "qemu" ? CorpusLog.Qemu(name) : CorpusLog.Public(name);
        byte[] original = corpus.Bytes!;
        var pristine = TcgEventLog.Parse(original);
        var random = new Random(seed);
        for (int i = 0; i < 400; i++)
        {
            byte[] bytes = (byte[])original.Clone();
            int at = random.Next(bytes.Length);
            bytes[at] ^= (byte)random.Next(1, 256);
            if (!TcgEventLog.TryParse(bytes, out var log, out string? error, out int offset))
            {
                Assert.False(string.IsNullOrEmpty(error));
                Assert.InRange(offset, 0, bytes.Length);
                continue;
            }

            Exercise(log!);
            var comparison = EventLogReplay.Replay(log!).CompareWith(corpus.Pcrs!);
            var hit = pristine.Events.FirstOrDefault(e => at >= e.Offset && at < e.Offset + e.Size);
            if (hit is not null && hit.IsExtended && InComparedDigest(hit, at, corpus))
                Assert.False(comparison.Passed, $"flip at {at} inside event {hit.Index}'s digest still replayed");
            _ = BootStateSummarizer.Summarize(comparison);
        }
    }

    private static bool InComparedDigest(TcgEvent ev, int at, CorpusLog corpus)
    {
        foreach (var d in ev.Digests)
        {
            int start = GetOffset(ev, d);
            if (at >= start && at < start + d.Value.Length && corpus.Pcrs!.Any(p => p.Bank == d.Algorithm && p.Index == ev.PcrIndex))
                return true;
        }

        return false;
    }

    private static int GetOffset(TcgEvent ev, TcgDigest digest)
    {
        // Digest memory is a slice of the log: recover its offset through the pinned array segment.
        return System.Runtime.InteropServices.MemoryMarshal.TryGetArray(digest.Value, out var segment) ? segment.Offset : -1;
    }

    /// <summary>Decodes every event, renders it, and summarises: nothing may throw anything but the typed error.</summary>
    private static void Exercise(TcgEventLog log)
    {
        foreach (var ev in log.Events)
        {
            if (TcgEventDataDecoder.TryDecode(ev, out var data, out _))
            {
                _ = data!.Describe();
                if (data is UefiVariableEventData v)
                {
                    _ = v.Database?.Entries.Select(e => e.Describe()).ToList();
                    _ = v.Authority?.Describe();
                }
            }

            foreach (var d in ev.Digests)
                _ = EventDigestVerifier.Check(ev, d.Algorithm);
        }

        _ = BootStateSummarizer.Summarize(log, null);
    }
}
