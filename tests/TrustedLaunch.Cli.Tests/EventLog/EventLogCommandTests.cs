using System.Text.Json;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.EventLog;

/// <summary>Runs the built <c>tl</c> as a process and checks exit codes and output of the eventlog commands.</summary>
public class EventLogCommandTests
{

    private static string Corpus(params string[] parts) => Path.Combine([RepositoryPaths.CorpusRoot, .. parts]);

    private static ToolResult Run(params string[] args) => TlRun.InProcess(["eventlog", .. args]);

    [Fact]
    public void Replay_QemuCaptureWithItsPcrs_ExitsZero()
    {
        var r = Run("replay", Corpus("qemu", "ovmf4m-ms-sb-crb", "binary_bios_measurements"), "--pcrs", Corpus("qemu", "ovmf4m-ms-sb-crb", "pcrs.txt"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("OK:", r.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_OtherCapturesPcrs_ExitsOneListingMismatches()
    {
        // cmdline2 differs in grub commands and kernel command line: PCR 8 (and 9 for grub.cfg) must be named.
        var r = Run("replay", Corpus("qemu", "ovmf4m-ms-sb-crb", "binary_bios_measurements"), "--pcrs", Corpus("qemu", "ovmf4m-ms-sb-crb-cmdline2", "pcrs.txt"));
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("FAILED", r.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("sha256[8]", r.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_EbsMissingLog_RecognisedExitsZero()
    {
        var dir = Corpus("public", "go-attestation-ebs_event_missing_eventlog");
        var r = Run("replay", Path.Combine(dir, "binary_bios_measurements"), "--pcrs", Path.Combine(dir, "pcrs.txt"), "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var json = JsonDocument.Parse(r.StandardOutput);
        var comparison = json.RootElement.GetProperty("comparison");
        Assert.True(comparison.GetProperty("exitBootServicesEventsMissing").GetBoolean());
        Assert.Contains(comparison.GetProperty("checks").EnumerateArray(), c => c.GetProperty("verdict").GetString() == "missingExitBootServices");
    }

    [Fact]
    public void Replay_WithoutPcrs_PrintsValuesInPcrsFileFormat()
    {
        string dir = RepositoryPaths.NewTempDirectory("tl-eventlog");
        try
        {
            string log = Corpus("qemu", "ovmf4m-ms-sb-crb-sha256only", "binary_bios_measurements");
            var r = Run("replay", log);
            Assert.True(r.ExitCode == 0, r.ToString());
            string pcrs = Path.Combine(dir, "pcrs.txt");
            File.WriteAllText(pcrs, r.StandardOutput);
            var again = Run("replay", log, "--pcrs", pcrs);
            Assert.True(again.ExitCode == 0, again.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Show_BogusLog_ExitsTwoWithOffset()
    {
        var r = Run("show", Corpus("public", "keylime-binary_bios_measurements-bogus", "binary_bios_measurements"));
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("byte offset 28", r.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Show_MissingFile_ExitsTwo()
    {
        var r = Run("show", "/nonexistent/binary_bios_measurements");
        Assert.Equal(2, r.ExitCode);
    }

    [Fact]
    public void Replay_MalformedPcrsFile_ExitsTwo()
    {
        string dir = RepositoryPaths.NewTempDirectory("tl-eventlog");
        try
        {
            string pcrs = Path.Combine(dir, "pcrs.txt");
            File.WriteAllText(pcrs, "sha256 0 XYZ\n");
            var r = Run("replay", Corpus("qemu", "ovmf4m-ms-sb-crb", "binary_bios_measurements"), "--pcrs", pcrs);
            Assert.True(r.ExitCode == 2, r.ToString());
            Assert.Contains("line 1", r.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Show_Json_ListsEveryEventDecoded()
    {
        var r = Run("show", Corpus("qemu", "ovmf4m-ms-sb-crb", "binary_bios_measurements"), "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var json = JsonDocument.Parse(r.StandardOutput);
        var events = json.RootElement.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal("crypto-agile", json.RootElement.GetProperty("format").GetString());
        Assert.Contains(events, e => e.GetProperty("decoded").TryGetProperty("devicePath", out var p) && p.GetString() == @"PciRoot(0x0)/Pci(0x2,0x0)/\EFI\BOOT\BOOTX64.EFI");
        Assert.All(events, e => Assert.False(e.TryGetProperty("decodeError", out _), e.ToString()));
    }

    [Fact]
    public void Summary_Json_SecureBootKernelCmdlineAndAuthorities()
    {
        string dir = Corpus("qemu", "ovmf4m-ms-sb-crb");
        var r = Run("summary", Path.Combine(dir, "binary_bios_measurements"), "--pcrs", Path.Combine(dir, "pcrs.txt"), "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var json = JsonDocument.Parse(r.StandardOutput);
        var root = json.RootElement;
        Assert.True(root.GetProperty("pcrValuesVerified").GetBoolean());
        Assert.True(root.GetProperty("secureBoot").GetProperty("enabled").GetBoolean());
        Assert.Equal("/vmlinuz console=ttyS0 quiet panic=-1", root.GetProperty("kernelCommandLine").GetString());
        var apps = root.GetProperty("bootApplications").EnumerateArray().ToList();
        Assert.Equal(4, apps.Count);
        Assert.Contains("Microsoft Corporation UEFI CA 2011", apps[0].GetProperty("authority").GetProperty("entry").GetProperty("subject").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Summary_WrongPcrs_ExitsOneAndOmitsTheirEvents()
    {
        string log = Corpus("qemu", "ovmf4m-ms-sb-crb", "binary_bios_measurements");
        var r = Run("summary", log, "--pcrs", Corpus("qemu", "ovmf4m-ms-sb-crb-cmdline2", "pcrs.txt"));
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("MISMATCH", r.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("kernel cmdline", r.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("show")]
    [InlineData("replay")]
    [InlineData("summary")]
    public void Help_EveryCommand_ExitsZeroAndNamesExitCodes(string command)
    {
        var r = Run(command, "--help");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Exit 0", r.StandardOutput, StringComparison.Ordinal);
    }
}
