using System.Text.RegularExpressions;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tcg.EventLog.Tests.Summary;

public partial class QemuCaptureSummaryTests
{
    public static TheoryData<string> Qemu => CorpusLog.QemuLogNames();

    [GeneratedRegex(@"^cmdline:\s*(.*)$", RegexOptions.Multiline)]
    private static partial Regex CmdlineLine();

    [Theory]
    [MemberData(nameof(Qemu))]
    public void Summarize_QemuCapture_AgreesWithGrubCfgAndConfig(string name)
    {
        var corpus = CorpusLog.Qemu(name);
        var summary = BootStateSummarizer.Summarize(corpus.Parse(), corpus.Pcrs);
        string config = File.ReadAllText(Path.Combine(corpus.Folder, "config.txt"));
        string cmdline = CmdlineLine().Match(config).Groups[1].Value.Trim();
        string[] grubCfg = File.ReadAllLines(Path.Combine(corpus.Folder, "grub.cfg"));

        Assert.True(summary.PcrValuesVerified);
        Assert.Empty(summary.ExcludedEvents);
        Assert.Empty(summary.UninterpretedEvents);
        Assert.Empty(summary.Warnings);
        Assert.Equal("/vmlinuz " + cmdline, summary.KernelCommandLine);
        // Every simple grub.cfg line was executed and measured as a grub command (PCR8).
        foreach (string line in grubCfg.Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("menuentry", StringComparison.Ordinal) && l != "}"))
            Assert.Contains(line, summary.GrubCommands);
        Assert.Contains(summary.GrubFiles, f => f.Path == "/vmlinuz");
        Assert.Contains(summary.GrubFiles, f => f.Path == "/initrd.gz");

        // OVMF_VARS_4M.ms.fd: Secure Boot on, Microsoft UEFI CA in db; shim admitted by it, grub by shim's Debian CA.
        Assert.True(summary.SecureBoot.Enabled);
        Assert.Contains(summary.SecureBoot.Db!.Certificates, c => c.Certificate!.CommonName == "Microsoft Corporation UEFI CA 2011");
        Assert.Equal("", summary.FirmwareVersion);
        var shim = summary.BootApplications[0];
        Assert.Equal(@"PciRoot(0x0)/Pci(0x2,0x0)/\EFI\BOOT\BOOTX64.EFI", shim.DevicePath);
        Assert.Equal("db", shim.Authority!.VariableName);
        Assert.Equal("Microsoft Corporation UEFI CA 2011", shim.Authority.Entry!.Certificate!.CommonName);
        var grub = summary.BootApplications[1];
        Assert.Equal(@"\EFI\BOOT\grubx64.efi", grub.DevicePath);
        Assert.Equal("MokListRT", grub.Authority!.VariableName);
        Assert.Equal("Debian Secure Boot CA", grub.Authority.Entry!.Certificate!.CommonName);
        Assert.All(summary.BootApplications.Skip(2), k => Assert.Null(k.DevicePath));
        Assert.All(summary.BootApplications, a => Assert.False(a.BeforeBootOptionCall));
        Assert.StartsWith("sbat,1,", summary.Shim!.SbatLevel, StringComparison.Ordinal);
        Assert.True(summary.ExitBootServicesMeasured);
        Assert.Equal(summary.BootApplications[0].Bank, corpus.Parse().Algorithms.Select(a => a.Algorithm).MaxBy(a => TpmHashAlgorithm.DigestSize(a)));
    }

    [Fact]
    public void Summarize_Cmdline2Capture_ShowsTheExtraGrubCommand()
    {
        var summary = BootStateSummarizer.Summarize(CorpusLog.Qemu("ovmf4m-ms-sb-crb-cmdline2").Parse(), CorpusLog.Qemu("ovmf4m-ms-sb-crb-cmdline2").Pcrs);
        Assert.Contains("set tlvar=1", summary.GrubCommands);
        var baseline = BootStateSummarizer.Summarize(CorpusLog.Qemu("ovmf4m-ms-sb-crb").Parse(), CorpusLog.Qemu("ovmf4m-ms-sb-crb").Pcrs);
        Assert.DoesNotContain("set tlvar=1", baseline.GrubCommands);
    }

    [Fact]
    public void Summarize_WrongPcr8_GrubEventsExcludedNotBelieved()
    {
        var corpus = CorpusLog.Qemu("ovmf4m-ms-sb-crb");
        var pcrs = corpus.Pcrs!.Select(p => p.Index == 8 ? p with { Value = new byte[p.Value.Length] } : p).ToList();
        var summary = BootStateSummarizer.Summarize(corpus.Parse(), pcrs);

        Assert.Empty(summary.GrubCommands);
        Assert.Null(summary.KernelCommandLine);
        Assert.Contains(summary.ExcludedEvents, e => e.PcrIndex == 8);
        Assert.True(summary.SecureBoot.Enabled);   // PCR7 still matched
    }

    [Fact]
    public void Summarize_GrubCommandDataChangedDigestKept_EventExcludedAsDigestMismatch()
    {
        // Replay still passes (data is not extended), but the data no longer hashes to the digest: it must not be used.
        var corpus = CorpusLog.Qemu("ovmf4m-ms-sb-crb");
        byte[] bytes = (byte[])corpus.Bytes!.Clone();
        var log = TcgEventLog.Parse(bytes);
        var ev = log.Events.First(e => e.PcrIndex == 8 && e.Data.Span.StartsWith("kernel_cmdline: "u8));
        int at = ev.Offset + ev.Size - ev.Data.Length + "kernel_cmdline: /vmlinuz ".Length;
        bytes[at] = (byte)'X';
        var tampered = TcgEventLog.Parse(bytes);
        var comparison = EventLogReplay.Replay(tampered).CompareWith(corpus.Pcrs!);
        Assert.True(comparison.Passed);

        var summary = BootStateSummarizer.Summarize(comparison);
        Assert.Null(summary.KernelCommandLine);
        var excluded = Assert.Single(summary.ExcludedEvents);
        Assert.Equal(ev.Index, excluded.EventIndex);
        Assert.Contains("not the hash of the logged data", excluded.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Summarize_GrubCommandTypeRewritten_NotReadAsCommandAndFlagged()
    {
        // The event type is not covered by any digest: rewriting EV_IPL to EV_EVENT_TAG keeps the replay intact.
        var corpus = CorpusLog.Qemu("ovmf4m-ms-sb-crb");
        byte[] bytes = (byte[])corpus.Bytes!.Clone();
        var ev = TcgEventLog.Parse(bytes).Events.First(e => e.PcrIndex == 8 && e.Data.Span.StartsWith("grub_cmd: set timeout"u8));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(ev.Offset + 4), (uint)TcgEventType.EventTag);
        var comparison = EventLogReplay.Replay(TcgEventLog.Parse(bytes)).CompareWith(corpus.Pcrs!);
        Assert.True(comparison.Passed);

        var summary = BootStateSummarizer.Summarize(comparison);
        Assert.DoesNotContain("set timeout=0", summary.GrubCommands);
        Assert.True(summary.UninterpretedEvents.Any(e => e.EventIndex == ev.Index) || summary.ExcludedEvents.Any(e => e.EventIndex == ev.Index));
    }

    [Fact]
    public void Summarize_WithoutPcrs_SaysSoAndStillChecksDataDigests()
    {
        var corpus = CorpusLog.Qemu("ovmf4m-ms-sb-crb");
        var summary = BootStateSummarizer.Summarize(corpus.Parse(), null);
        Assert.False(summary.PcrValuesVerified);
        Assert.Equal(4, summary.BootApplications.Count);
    }
}
