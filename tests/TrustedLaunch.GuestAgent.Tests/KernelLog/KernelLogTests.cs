using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestAgent.KernelLog;
using TrustedLaunch.Testing;

namespace TrustedLaunch.GuestAgent.Tests.KernelLog;

public sealed class KernelLogTests
{
    private static string Golden(string name) => Path.Combine(AppContext.BaseDirectory, "KernelLog", "Golden", name);

    /// <summary>A system root with the given IMA list and loaded modules, and the kernel log file.</summary>
    private static GuestSystem Root(string? imaList, string modules, double uptime = 30)
    {
        string root = RepositoryPaths.NewTempDirectory("tl-agent-root");
        void Write(string path, string text)
        {
            string full = Path.Combine(root, path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, text);
        }

        if (imaList is not null)
            Write(GuestSystem.ImaAsciiLogPath, imaList);
        Write(GuestSystem.ModulesPath, modules);
        Write(GuestSystem.UptimePath, $"{uptime:0.00} 1.00\n");
        return new GuestSystem(root);
    }

    [Theory]
    [InlineData("5,25,2316654,-;Loading of unsigned module is rejected", 0, 5, 25UL, 2316654UL, "Loading of unsigned module is rejected")]
    [InlineData("6,1,0,-;efi: EFI v2.70 by EDK II", 0, 6, 1UL, 0UL, "efi: EFI v2.70 by EDK II")]
    [InlineData("13,900,5,c,extra;x\\x3by", 1, 5, 900UL, 5UL, "x;y")]
    public void TryParse_RealRecordHeaders_SplitsPrioritySequenceTimeAndMessage(string line, int facility, int level, ulong seq, ulong usec, string message)
    {
        Assert.True(KernelLogRecord.TryParse(line, out KernelLogRecord record));
        Assert.Equal((facility, level, seq, usec, message), (record.Facility, record.Level, record.Sequence, record.MicrosecondsSinceBoot, record.Message));
    }

    [Theory]
    [InlineData(" SUBSYSTEM=virtio")]
    [InlineData("no header here")]
    [InlineData("x,1,2,-;bad priority")]
    [InlineData("5,1;too few fields")]
    [InlineData("")]
    public void TryParse_NotARecordHeader_ReturnsFalse(string line) => Assert.False(KernelLogRecord.TryParse(line, out _));

    [Fact]
    public void Classify_EveryGoldenLine_FindsOnlyTheKernelsModuleAndLockdownMessages()
    {
        var events = File.ReadLines(Golden("kmsg-debian12-secureboot-on.txt"))
            .Select(l => KernelLogRecord.TryParse(l, out var r) ? KernelLogClassifier.Classify(r) : null)
            .OfType<KernelEvent>().ToList();
        // Two refusals of the same insmod; "Kernel is locked down" and swapper's hibernation note are state, not events;
        // the facility-1 copies written by user space are ignored.
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal((KernelEventKind.ModuleRejected, (string?)null, "unsigned module"), (e.Kind, e.Module, e.Detail)));
        KernelEvent taint = File.ReadLines(Golden("kmsg-debian12-secureboot-off.txt"))
            .Select(l => KernelLogRecord.TryParse(l, out var r) ? KernelLogClassifier.Classify(r) : null).OfType<KernelEvent>().Single();
        Assert.Equal((KernelEventKind.ModuleUnsignedLoaded, "ttyprintk"), (taint.Kind, taint.Module));
    }

    [Theory]
    [InlineData("Lockdown: insmod: unsigned module loading is restricted; see man kernel_lockdown.7", KernelEventKind.ModuleRejected, null)]
    [InlineData("Lockdown: cat: /dev/mem,kmem,port is restricted; see man kernel_lockdown.7", KernelEventKind.Lockdown, null)]
    [InlineData("Loading of module with unavailable key is rejected", KernelEventKind.ModuleRejected, null)]
    [InlineData("nvidia: module license 'NVIDIA' taints kernel.", KernelEventKind.ModuleTaint, "nvidia")]
    [InlineData("vboxdrv: loading out-of-tree module taints kernel.", KernelEventKind.ModuleTaint, "vboxdrv")]
    [InlineData("r8188eu: module is from the staging directory, the quality is unknown, you have been warned.", KernelEventKind.ModuleTaint, "r8188eu")]
    public void Classify_OtherKernelFormats_KindAndModule(string message, KernelEventKind kind, string? module)
    {
        KernelEvent? e = KernelLogClassifier.Classify(new KernelLogRecord(0, 5, 1, 1, message));
        Assert.NotNull(e);
        Assert.Equal((kind, module), (e.Kind, e.Module));
    }

    [Fact]
    public async Task Monitor_SecureBootGolden_NamesTheRefusedModuleFromImaOnce()
    {
        GuestSystem system = Root(File.ReadAllText(Golden("ima-debian12-secureboot-on.txt")),
            "virtio_console 45056 0 - Live 0x0000000000000000\nbutton 24576 0 - Live 0x0000000000000000\n");
        var monitor = new KernelLogMonitor(system, TimeProvider.System);
        var observed = new List<GuestFinding>();
        monitor.FindingObserved += observed.Add;
        await monitor.StartAsync(Golden("kmsg-debian12-secureboot-on.txt"), _ => { });
        GuestFinding finding = Assert.Single(observed);
        Assert.Equal((GuestFinding.Kinds.ModuleRejected, "unsigned_ttyprintk"), (finding.Kind, finding.Module));
        Assert.StartsWith("Loading of unsigned module is rejected", finding.Message, StringComparison.Ordinal);
        Assert.Contains("/lib/modules/unsigned_ttyprintk.ko", finding.Message, StringComparison.Ordinal);
        Assert.Equal(monitor.Findings, observed);
    }

    [Fact]
    public async Task Monitor_RefusedModuleThatIsLoadedOrUnmeasured_StaysUnnamed()
    {
        // The same module loaded (e.g. a signed copy later): the IMA entry no longer explains the refusal.
        GuestSystem loaded = Root(File.ReadAllText(Golden("ima-debian12-secureboot-on.txt")), "unsigned_ttyprintk 16384 0 - Live 0x0\n");
        var monitor = new KernelLogMonitor(loaded, TimeProvider.System);
        await monitor.StartAsync(Golden("kmsg-debian12-secureboot-on.txt"), _ => { });
        GuestFinding finding = Assert.Single(monitor.Findings);
        Assert.Null(finding.Module);
        Assert.Equal("Loading of unsigned module is rejected", finding.Message);
        var unmeasured = new KernelLogMonitor(Root(null, ""), TimeProvider.System);
        await unmeasured.StartAsync(Golden("kmsg-debian12-secureboot-on.txt"), _ => { });
        Assert.Null(Assert.Single(unmeasured.Findings).Module);
    }

    [Fact]
    public async Task Monitor_SecureBootOffGolden_ReportsTheTaintingModuleWithBootRelativeTime()
    {
        var monitor = new KernelLogMonitor(Root(null, "ttyprintk 16384 0 - Live 0x0\n", uptime: 100), TimeProvider.System);
        DateTimeOffset before = DateTimeOffset.UtcNow;
        await monitor.StartAsync(Golden("kmsg-debian12-secureboot-off.txt"), _ => { });
        GuestFinding finding = Assert.Single(monitor.Findings);
        Assert.Equal((GuestFinding.Kinds.ModuleUnsignedLoaded, "ttyprintk"), (finding.Kind, finding.Module));
        // Logged 1.885511 s after a boot 100 s ago.
        Assert.InRange(finding.At, before.AddSeconds(-100 + 1.8), DateTimeOffset.UtcNow.AddSeconds(-100 + 2));
    }

    [Fact]
    public void ParseImaAsciiPaths_ImaSigWithEmptySignature_KeepsThePath()
    {
        IReadOnlyList<string> paths = ModuleRejectionResolver.ParseImaAsciiPaths(File.ReadAllText(Golden("ima-debian12-secureboot-on.txt")));
        Assert.Equal(["boot_aggregate", "/lib/modules/unsigned_ttyprintk.ko"], paths);
        Assert.Equal("a_b", ModuleRejectionResolver.ModuleName("/x/a-b.ko.xz"));
        Assert.Null(ModuleRejectionResolver.ModuleName("/usr/bin/tl-guest-agent"));
    }

    [Fact]
    public void Describe_UnsignedAndOutOfTree_NamesTheLetters()
    {
        Assert.Equal("kernel taint 0x3000: O (out-of-tree module loaded) E (unsigned module loaded)", KernelTaint.Describe(0x3000));
        Assert.True(KernelTaint.TryParse("8192\n", out ulong mask));
        Assert.Equal(KernelTaint.UnsignedModule, mask);
    }
}
