using TrustedLaunch.Runtime.Console;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Runtime.Tests.Console;

public sealed class ConsoleVerdictParserTests
{
    private static ConsoleVerdictParser ParseGolden(string name) =>
        ConsoleVerdictParser.ParseAll(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Console", "Golden", name)));

    [Fact]
    public void Parse_UnsignedShim_FirmwareRefusesBoot0001WithAccessDenied()
    {
        ConsoleVerdictParser parser = ParseGolden("unsigned-shim-ms-keys.console.log");
        BootVerdict verdict = Assert.IsType<BootVerdict>(parser.Verdict);
        Assert.Equal(BootOutcome.SecureBootViolation, verdict.Outcome);
        SecureBootRefusal refusal = Assert.IsType<SecureBootRefusal>(verdict.Refusal);
        Assert.Equal(RefusingComponent.Firmware, refusal.RefusedBy);
        Assert.StartsWith("Boot0001 \"UEFI Non-Block Boot Device\" from PciRoot(0x0)/Pci(0x2,0x0)", refusal.Image, StringComparison.Ordinal);
        Assert.EndsWith("Access Denied", refusal.Message, StringComparison.Ordinal);
        // The firmware's own unsigned EFI shell (Boot0002, Fv(...)) is refused too, but that is not the guest's image.
        Assert.Single(parser.Refusals);
    }

    [Fact]
    public void Parse_UnsignedGrub_ShimRefusesSecondStage()
    {
        BootVerdict verdict = Assert.IsType<BootVerdict>(ParseGolden("unsigned-grub-ms-keys.console.log").Verdict);
        Assert.Equal(BootOutcome.SecureBootViolation, verdict.Outcome);
        Assert.Equal(RefusingComponent.Shim, verdict.Refusal!.RefusedBy);
        Assert.Equal("Verification failed: (0x1A) Security Violation", verdict.Refusal.Message);
        Assert.Contains("grubx64.efi", verdict.Refusal.Image, StringComparison.Ordinal);
        Assert.Equal(BootStage.BootOptionStarted, verdict.Stage);
    }

    [Fact]
    public void Parse_NoDisk_NoBootableDeviceDespiteShellRefusal()
    {
        BootVerdict verdict = Assert.IsType<BootVerdict>(ParseGolden("no-disk.console.log").Verdict);
        Assert.Equal(BootOutcome.NoBootableDevice, verdict.Outcome);
        Assert.Null(verdict.Refusal);
    }

    [Fact]
    public void Parse_TrustedLaunchGuest_BootedWithFacts()
    {
        BootVerdict verdict = Assert.IsType<BootVerdict>(ParseGolden("debian12-ms-sb-vtpm.console.log").Verdict);
        Assert.Equal(BootOutcome.Booted, verdict.Outcome);
        Assert.Equal("enabled", verdict.GuestFacts["secure-boot"]);
        Assert.Equal("2.0", verdict.GuestFacts["tpm"]);
        Assert.StartsWith("rejected ttyprintk", verdict.GuestFacts["module-unsigned"], StringComparison.Ordinal);
    }

    [Fact]
    public void Feed_TimedChunks_VerdictCarriesWhenEachStageWasFirstSeen()
    {
        // The golden boot fed in three timed chunks, cut at its firmware's "loading" line and inside the first kernel line:
        // each stage takes the time of the chunk that showed it, so a later chunk never moves an earlier stage.
        byte[] console = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Console", "Golden", "debian12-ms-sb-vtpm.console.log"));
        int bootOption = IndexOf(console, "BdsDxe: loading");
        int kernel = IndexOf(console, "ima: Can not");
        var parser = new ConsoleVerdictParser();
        parser.Feed(console.AsSpan(0, bootOption), TimeSpan.FromSeconds(1));
        parser.Feed(console.AsSpan(bootOption, kernel - bootOption), TimeSpan.FromSeconds(4));
        parser.Feed(console.AsSpan(kernel), TimeSpan.FromSeconds(9));

        BootVerdict verdict = Assert.IsType<BootVerdict>(parser.Verdict);
        Assert.Equal(BootOutcome.Booted, verdict.Outcome);
        BootStageReached option = Assert.Single(verdict.StagesReached, s => s.Stage == BootStage.BootOptionStarted);
        Assert.Equal(TimeSpan.FromSeconds(4), option.Elapsed);
        Assert.Equal(TimeSpan.FromSeconds(9), Assert.Single(verdict.StagesReached, s => s.Stage == BootStage.Kernel).Elapsed);
        Assert.Equal(TimeSpan.FromSeconds(9), Assert.Single(verdict.StagesReached, s => s.Stage == BootStage.Init).Elapsed);
        Assert.Equal([.. verdict.StagesReached.Select(s => s.Stage).Order()], verdict.StagesReached.Select(s => s.Stage));
    }

    [Fact]
    public void ParseAll_Untimed_ReachesStagesWithoutTimes()
    {
        ConsoleVerdictParser parser = ParseGolden("debian12-ms-sb-vtpm.console.log");
        Assert.Equal(BootStage.Init, parser.Stage);
        Assert.Empty(parser.Verdict!.StagesReached);
    }

    private static int IndexOf(byte[] haystack, string needle)
    {
        int at = haystack.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(needle));
        Assert.True(at > 0, $"the golden console has no '{needle}'");
        return at;
    }

    [Fact]
    public void Parse_CorpusBoots_ReachKernelWithoutRefusalOrVerdict()
    {
        // The corpus guests (make-capture.sh) print no TL-GUEST marker and power off: the live verdict stays open and
        // only the exit concludes it, never as a Secure Boot violation.
        foreach (string capture in RepositoryPaths.QemuCaptures)
        {
            ConsoleVerdictParser parser = ConsoleVerdictParser.ParseAll(File.ReadAllBytes(Path.Combine(capture, "console.log")));
            Assert.Null(parser.Verdict);
            Assert.Empty(parser.Refusals);
            Assert.Equal(BootStage.Kernel, parser.Stage);
            Assert.Contains(parser.Lines, l => l.Contains("Welcome to GRUB!", StringComparison.Ordinal));
            Assert.Equal(BootOutcome.Failed, parser.Conclude(BootOutcome.Failed, "QEMU exited").Outcome);
        }
    }

    [Theory]
    [InlineData("[    2.1] Kernel panic - not syncing: VFS: Unable to mount root fs\n", BootOutcome.Failed)]
    [InlineData("BdsDxe: failed to load Boot0001 \"x\" from PciRoot(0x0): Not Found\nBdsDxe: No bootable option or device was found.\n", BootOutcome.NoBootableDevice)]
    [InlineData("error: bad shim signature.\n", BootOutcome.SecureBootViolation)]
    [InlineData("debian login:\n", BootOutcome.Booted)]
    [InlineData("\u001b[01;01HTL-GUEST: booted", BootOutcome.Booted)]
    public void Parse_Snippet_Outcome(string console, BootOutcome expected)
    {
        ConsoleVerdictParser parser = ConsoleVerdictParser.ParseAll(System.Text.Encoding.ASCII.GetBytes(console));
        Assert.Equal(expected, parser.Verdict?.Outcome);
    }

    [Fact]
    public void Feed_SplitAcrossChunks_SameVerdict()
    {
        byte[] log = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Console", "Golden", "unsigned-shim-ms-keys.console.log"));
        var parser = new ConsoleVerdictParser();
        for (int i = 0; i < log.Length; i += 7)
            parser.Feed(log.AsSpan(i, Math.Min(7, log.Length - i)));
        Assert.Equal(BootOutcome.SecureBootViolation, parser.Verdict?.Outcome);
    }

    [Fact]
    public void Conclude_AfterFirmwareRefusalWithoutGiveUp_IsViolation()
    {
        var parser = ConsoleVerdictParser.ParseAll(
            "BdsDxe: failed to load Boot0001 \"UEFI Non-Block Boot Device\" from PciRoot(0x0)/Pci(0x2,0x0): Access Denied\n"u8);
        Assert.Null(parser.Verdict);
        Assert.Equal(BootOutcome.SecureBootViolation, parser.Conclude(BootOutcome.Timeout, "no verdict").Outcome);
    }
}
