using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tcg.EventLog.Tests.Parsing;

public class TcgEventLogParseTests
{
    [Fact]
    public void Parse_EmptyFile_TypedErrorAtOffsetZero()
    {
        var e = Assert.Throws<TcgEventLogFormatException>(() => TcgEventLog.Parse(CorpusLog.Public("keylime-binary_bios_measurements-empty").Bytes!));
        Assert.Equal(0, e.Offset);
        Assert.Contains("empty", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AsciiText_TypedErrorNamingTheEventSize()
    {
        // keylime's "bogus" file: the builder's replay says "first event size 1919248394 exceeds log".
        var e = Assert.Throws<TcgEventLogFormatException>(() => TcgEventLog.Parse(CorpusLog.Public("keylime-binary_bios_measurements-bogus").Bytes!));
        Assert.Contains("1919248394", e.Message, StringComparison.Ordinal);
        Assert.Equal(28, e.Offset);
    }

    [Fact]
    public void Parse_SpecIdVendorInfoOutsideEvent_Rejected()
    {
        bool ok = TcgEventLog.TryParse(CorpusLog.Public("tpm2-tools-specid-vendordata").Bytes!, out _, out string? error, out int offset);
        Assert.False(ok);
        Assert.Contains("vendorInfoSize 4", error, StringComparison.Ordinal);
        Assert.InRange(offset, 32, 69);
    }

    [Fact]
    public void Parse_TrailingZeroPadding_Tolerated()
    {
        var corpus = CorpusLog.Qemu("ovmf4m-ms-sb-crb");
        byte[] padded = [.. corpus.Bytes!, .. new byte[4096]];
        var log = TcgEventLog.Parse(padded);
        Assert.Equal(4096, log.TrailingZeroBytes);
        Assert.Equal(corpus.Parse().Events.Count, log.Events.Count);
        Assert.True(EventLogReplay.Replay(log).CompareWith(corpus.Pcrs!).Passed);
    }

    [Fact]
    public void Parse_UnknownEventType_KeptRaw()
    {
        var corpus = CorpusLog.Qemu("ovmf4m-ms-sb-crb");
        byte[] bytes = (byte[])corpus.Bytes!.Clone();
        var ev = TcgEventLog.Parse(bytes).Events[5];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(ev.Offset + 4), 0x7777);
        var changed = TcgEventLog.Parse(bytes).Events[5];
        Assert.Equal((TcgEventType)0x7777, changed.Type);
        Assert.Equal("EV_UNKNOWN_0x00007777", changed.TypeName);
        Assert.IsType<RawEventData>(TcgEventDataDecoder.Decode(changed));
    }

    [Fact]
    public void Parse_DigestAlgorithmNotInSpecId_TypedError()
    {
        var corpus = CorpusLog.Qemu("ovmf4m-ms-sb-crb-sha256only");
        byte[] bytes = (byte[])corpus.Bytes!.Clone();
        var ev = TcgEventLog.Parse(bytes).Events[1];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(ev.Offset + 12), (ushort)TpmAlgId.Sha384);
        var e = Assert.Throws<TcgEventLogFormatException>(() => TcgEventLog.Parse(bytes));
        Assert.Equal(ev.Offset + 12, e.Offset);
        Assert.Contains("not listed in the Spec ID event", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_RefStructOverRealLog_YieldsSameEventsAsParse()
    {
        byte[] bytes = CorpusLog.Public("go-tpm-tools-ubuntu-2104-no-dbx").Bytes!;
        var reader = new TcgEventLogReader(bytes);
        int count = 0;
        while (reader.ReadNext(out var record))
        {
            Assert.True(record.Size > 0);
            count++;
        }

        Assert.Equal(TcgEventLogFormat.CryptoAgile, reader.Format);
        Assert.Equal(TcgEventLog.Parse(bytes).Events.Count, count);
    }

    [Fact]
    public void PcrValue_ParseList_RejectsBadLinesWithLineNumber()
    {
        var e = Assert.Throws<FormatException>(() => PcrValue.ParseList("sha256 0 00\n"));
        Assert.Contains("line 1", e.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => PcrValue.ParseList("md5 0 00"));
        Assert.Throws<FormatException>(() => PcrValue.ParseList("sha1 24 " + new string('0', 40)));
        Assert.Single(PcrValue.ParseList("# comment\nsha1 0 " + new string('A', 40) + "\n\n"));
    }

    [IntegrationTest]
    [Theory]
    [InlineData("ovmf4m-ms-sb-crb")]
    [InlineData("ovmf4m-ms-sb-crb-sha256only")]
    public void Replay_QemuCapture_AgreesWithTpm2Eventlog(string name)
    {
        // tpm2_eventlog 5.4 is right for OVMF logs (no StartupLocality, no SP800-155 events): an independent replay.
        var corpus = CorpusLog.Qemu(name);
        var result = ExternalTool.Run("tpm2_eventlog", [Path.Combine(corpus.Folder, "binary_bios_measurements")]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var replay = EventLogReplay.Replay(corpus.Parse());
        int compared = 0;
        string? bank = null;
        bool inPcrs = false;
        foreach (string raw in result.StandardOutput.Split('\n'))
        {
            string line = raw.TrimEnd();
            if (line == "pcrs:")
            {
                inPcrs = true;
                continue;
            }

            if (!inPcrs)
                continue;
            string t = line.Trim();
            if (t.EndsWith(':') && !t.Contains(' ', StringComparison.Ordinal))
            {
                bank = t.TrimEnd(':');
                continue;
            }

            var parts = t.Split(':', 2, StringSplitOptions.TrimEntries);
            if (bank is null || parts.Length != 2 || !int.TryParse(parts[0], out int pcr) || !TpmHashAlgorithm.TryParseBankName(bank, out var alg))
                continue;
            string hex = parts[1].StartsWith("0x", StringComparison.Ordinal) ? parts[1][2..] : parts[1];
            Assert.Equal(hex.ToUpperInvariant(), Convert.ToHexString(replay.Bank(alg)!.Value(pcr)));
            compared++;
        }

        Assert.True(compared >= 10, $"only {compared} PCRs parsed from tpm2_eventlog output");
    }
}
