using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tcg.EventLog.Tests.Replay;

public class CorpusReplayTests
{
    public static TheoryData<string> Qemu => CorpusLog.QemuLogNames();

    public static TheoryData<string> Public => CorpusLog.PublicLogNames();

    [Theory]
    [MemberData(nameof(Qemu))]
    public void Replay_QemuCapture_ReproducesEveryRecordedPcrInEveryBank(string name)
    {
        var corpus = CorpusLog.Qemu(name);
        var comparison = EventLogReplay.Replay(corpus.Parse()).CompareWith(corpus.Pcrs!);

        Assert.True(comparison.Passed, string.Join("; ", comparison.Mismatches));
        var banks = corpus.Pcrs!.Select(p => p.Bank).Distinct().ToList();
        Assert.NotEmpty(banks);
        foreach (var check in comparison.Checks)
        {
            if (check.Verdict == PcrVerdict.NotCovered)
            {
                // Only PCRs nothing in the firmware log extends: the reset value, or IMA's PCR10.
                Assert.True(check.ExpectedIsResetValue || check.Index == 10, $"{check.BankName}[{check.Index}] not covered but not reset");
            }
        }

        // PCR 8 and 9 (grub) and 14 (shim) replay too: nothing is left uncompared in the boot chain.
        foreach (var bank in banks)
        {
            foreach (int pcr in new[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14 })
                Assert.Equal(PcrVerdict.Match, comparison.Checks.Single(c => c.Bank == bank && c.Index == pcr).Verdict);
        }
    }

    [Fact]
    public void Replay_SameLengthLogWithOneDigestByteChanged_NotTheRememberedReplay()
    {
        // Replays are remembered by content (ContentCache): a log of the same length differing in one byte of one
        // event's digest must be replayed afresh and mismatch its PCR.
        var corpus = CorpusLog.Qemu("ovmf4m-ms-sb-crb");
        TcgEventLog genuine = corpus.Parse();
        Assert.True(EventLogReplay.Replay(genuine).CompareWith(corpus.Pcrs!).Passed);
        TcgEvent grub = genuine.Events.First(e => e.PcrIndex == 4 && e.Type == TcgEventType.EfiBootServicesApplication);
        byte[] edited = corpus.Bytes!.ToArray();
        ReadOnlyMemory<byte> digest = grub.Digests.Single(d => d.Algorithm == TpmAlgId.Sha256).Value;
        int offset = FindOffset(edited, digest.Span);
        edited[offset] ^= 0x01;

        PcrComparison comparison = EventLogReplay.Replay(TcgEventLog.Parse(edited)).CompareWith(corpus.Pcrs!);

        Assert.Contains(comparison.Mismatches, c => c.Bank == TpmAlgId.Sha256 && c.Index == 4);
        Assert.True(EventLogReplay.Replay(TcgEventLog.Parse(corpus.Bytes!.ToArray())).CompareWith(corpus.Pcrs!).Passed);
    }

    [Fact]
    public void DigestCheck_RememberedVariableDataThenOneByteChanged_Mismatch()
    {
        // Digests of large event data are remembered by content too: after the genuine db event verified, the same
        // event with one data byte changed must not.
        var corpus = CorpusLog.Qemu("ovmf4m-ms-sb-crb");
        IReadOnlyList<TcgEvent> events = corpus.Parse().Events;
        int position = events.ToList().FindIndex(e => e.PcrIndex == 7 && e.Type == TcgEventType.EfiVariableDriverConfig && e.Data.Length > 1000);
        TcgEvent db = events[position];
        Assert.Equal(EventDigestCheck.Verified, EventDigestVerifier.Check(db, TpmAlgId.Sha256));
        byte[] edited = corpus.Bytes!.ToArray();
        int offset = FindOffset(edited, db.Data.Span);
        edited[offset + db.Data.Length - 1] ^= 0x01;

        TcgEvent tampered = TcgEventLog.Parse(edited).Events[position];

        Assert.Equal(db.Data.Length, tampered.Data.Length);
        Assert.Equal(EventDigestCheck.Mismatch, EventDigestVerifier.Check(tampered, TpmAlgId.Sha256));
        Assert.Equal(EventDigestCheck.Verified, EventDigestVerifier.Check(db, TpmAlgId.Sha256));
    }

    private static int FindOffset(byte[] haystack, ReadOnlySpan<byte> needle)
    {
        int offset = haystack.AsSpan().IndexOf(needle);
        Assert.True(offset >= 0);
        return offset;
    }

    [Fact]
    public void QemuCaptures_Sha256OnlyCapture_LogCarriesOnlySha256()
    {
        var log = CorpusLog.Qemu("ovmf4m-ms-sb-crb-sha256only").Parse();
        Assert.Equal([TpmAlgId.Sha256], log.Algorithms.Select(a => a.Algorithm));
        var full = CorpusLog.Qemu("ovmf4m-ms-sb-crb").Parse();
        Assert.Equal([TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384, TpmAlgId.Sha512], full.Algorithms.Select(a => a.Algorithm));
    }

    [Fact]
    public void QemuCaptures_NoKeysCapture_HasPcrsButNoLog()
    {
        // The corpus README: with Secure Boot off this kernel exposed no event log, only PCRs.
        var corpus = CorpusLog.Qemu("ovmf4m-nokeys-sboff-crb");
        Assert.Null(corpus.Bytes);
        Assert.NotEmpty(corpus.Pcrs!);
    }

    [Theory]
    [MemberData(nameof(Public))]
    public void Replay_PublicLog_ReproducesPublishedValuesOrFailsAsSourceSays(string name)
    {
        var corpus = CorpusLog.Public(name);
        if (CorpusLog.IsKnownInvalid(name) || CorpusLog.IsMalformedSpecId(name))
        {
            Assert.False(TcgEventLog.TryParse(corpus.Bytes!, out _, out string? error, out int offset));
            Assert.False(string.IsNullOrEmpty(error));
            Assert.InRange(offset, 0, Math.Max(0, corpus.Bytes!.Length));
            return;
        }

        var log = corpus.Parse();
        if (corpus.Find("derived", "event_count_including_no_action") is { } count)
            Assert.Equal(count.GetInt32(), log.Events.Count);
        if (corpus.Find("derived", "startup_locality") is { } locality)
            Assert.Equal((byte?)locality.GetInt32(), log.StartupLocality);
        if (corpus.Pcrs is null)
            return;

        var comparison = EventLogReplay.Replay(log).CompareWith(corpus.Pcrs);
        Assert.True(comparison.Passed, string.Join("; ", comparison.Mismatches));
        Assert.Contains(comparison.Checks, c => c.Verdict is PcrVerdict.Match or PcrVerdict.MissingExitBootServices);
        foreach (var c in comparison.Checks.Where(c => c.Verdict == PcrVerdict.NotCovered && !c.ExpectedIsResetValue))
        {
            // Only the PCRs the corpus lists as published but not in the log (PCR10/IMA, sha256[5] of a SHA-1 log).
            string label = $"{c.BankName}[{c.Index}]";
            var uncovered = corpus.Find("tpm2_eventlog_uncovered_pcrs")?.EnumerateArray().Select(e => e.GetString()).ToList() ?? [];
            Assert.Contains(label, uncovered);
        }

        bool needsWorkaround = corpus.Find("replay_requires_workaround") is not null;
        Assert.Equal(needsWorkaround, comparison.ExitBootServicesEventsMissing);
    }

    [Fact]
    public void Replay_EbsEventMissingLog_Pcr5RecognisedAsMissingExitBootServices()
    {
        var corpus = CorpusLog.Public("go-attestation-ebs_event_missing_eventlog");
        var comparison = EventLogReplay.Replay(corpus.Parse()).CompareWith(corpus.Pcrs!);

        var sha1 = comparison.Checks.Single(c => c.Bank == TpmAlgId.Sha1 && c.Index == 5);
        Assert.Equal(PcrVerdict.MissingExitBootServices, sha1.Verdict);
        Assert.Contains("Exit Boot Services Invocation", sha1.Detail, StringComparison.Ordinal);
        var sha256 = comparison.Checks.Single(c => c.Bank == TpmAlgId.Sha256 && c.Index == 5);
        Assert.Equal(PcrVerdict.NotCovered, sha256.Verdict);
        Assert.True(comparison.Passed);
        Assert.True(comparison.IsPcrVerified(TpmAlgId.Sha1, 5));
    }

    [Fact]
    public void Replay_Debian10WithBogusPcr0_Mismatches()
    {
        // go-tpm-tools TestParseMachineStateFail: a bogus sha1 PCR0 must fail the replay.
        var corpus = CorpusLog.Public("go-tpm-tools-debian-10");
        var pcrs = corpus.Pcrs!.Select(p => p.Bank == TpmAlgId.Sha1 && p.Index == 0 ? p with { Value = new byte[20] } : p).ToList();
        var comparison = EventLogReplay.Replay(corpus.Parse()).CompareWith(pcrs);

        Assert.False(comparison.Passed);
        var mismatch = Assert.Single(comparison.Mismatches);
        Assert.Equal((TpmAlgId.Sha1, 0), (mismatch.Bank, mismatch.Index));
        Assert.Null(comparison.VerifiedBank(0));
    }

    [Fact]
    public void Replay_StartupLocalityLogs_Pcr0StartsAtLocality3()
    {
        // glinux-alex and gdc-host publish PCR0 values that only a replay starting at locality 3 reproduces.
        foreach (string name in new[] { "go-tpm-tools-glinux-alex", "go-tpm-tools-gdc-host" })
        {
            var corpus = CorpusLog.Public(name);
            var log = corpus.Parse();
            Assert.Equal((byte)3, log.StartupLocality);
            var comparison = EventLogReplay.Replay(log).CompareWith(corpus.Pcrs!);
            Assert.All(comparison.Checks.Where(c => c.Index == 0), c => Assert.Equal(PcrVerdict.Match, c.Verdict));
        }
    }

    [Fact]
    public void Replay_ShortNoActionLog_ParsesAsSha1WithLocality()
    {
        var log = CorpusLog.Public("go-attestation-short_no_action_eventlog").Parse();
        Assert.Equal(TcgEventLogFormat.Sha1, log.Format);
        Assert.Equal((byte)3, log.StartupLocality);
        var replay = EventLogReplay.Replay(log);
        Assert.False(replay.Bank(TpmAlgId.Sha1)!.IsCovered(0));
    }

    [Fact]
    public void Replay_SpecIdWithFourAlgsButTwoDigests_MissingBanksAreNotCovered()
    {
        var corpus = CorpusLog.Public("tpm2-tools-event-uefivar");
        var log = corpus.Parse();
        Assert.Equal(4, log.Algorithms.Count);
        var replay = EventLogReplay.Replay(log);
        Assert.False(replay.Bank(TpmAlgId.Sha384)!.IsCovered(7));
        var pcrs = corpus.Pcrs!.Append(new PcrValue(TpmAlgId.Sha384, 7, new byte[48])).ToList();
        var check = replay.CompareWith(pcrs).Checks.Single(c => c.Bank == TpmAlgId.Sha384);
        Assert.Equal(PcrVerdict.NotCovered, check.Verdict);
        Assert.Contains("lack a digest", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_OptionRomLogWithPcrIndexMinusOne_Verifies()
    {
        // tpm2_eventlog 5.4 crashes on this log's PCR index 0xFFFFFFFF; it is an EV_NO_ACTION and is not extended.
        var corpus = CorpusLog.Public("go-attestation-option_rom_eventlog");
        var log = corpus.Parse();
        Assert.Contains(log.Events, e => e.PcrIndex == uint.MaxValue && e.Type == TcgEventType.NoAction);
        Assert.True(EventLogReplay.Replay(log).CompareWith(corpus.Pcrs!).Passed);
    }
}
