using System.Text.RegularExpressions;
using TrustedLaunch.Runtime.Tests.Boot;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;
using Xunit.Abstractions;

namespace TrustedLaunch.Runtime.Tests.GuestState;

/// <summary>
/// Trusted Launch VMs booted from their VMGS by <c>tl boot --vmgs</c> under QEMU (TCG), with <c>tl-vtpm</c> on the
/// VMGS vtpm entry and the UEFI store coming out of and going back into the VMGS.
/// </summary>
[Collection(BootGroup.Name)]
[IntegrationTest]
public sealed partial class VmgsBootTests(BootFixture images, ITestOutputHelper output)
{
    [Fact]
    public void Boot_MicrosoftVmgsTwice_BootedSameEkGuestPcrsReplayNvramWrittenBack()
    {
        VmgsVm vm = VmgsVm.Create("microsoft");
        byte[] nvramBefore = ReadEntry(vm, VmgsEntryId.UefiNvram);
        byte[] ekBefore = vm.ReadEkCertificate();

        BootRun first = vm.Boot(images.Trusted.RawPath);
        Assert.True(first.Process.ExitCode == 0 && first.Outcome == "booted", first.ToString());
        Assert.Equal("enabled", first.Fact("secure-boot"));
        Assert.Equal("2.0", first.Fact("tpm"));
        Assert.Equal("present", first.Fact("event-log"));
        Assert.StartsWith("rejected ttyprintk", first.Fact("module-unsigned"), StringComparison.Ordinal);
        Assert.Equal(vm.VmId.ToString(), first.Fact("product-uuid"), ignoreCase: true); // the VMGS's VM id reached QEMU's -uuid
        Assert.Contains("tl-vtpm", first.Process.StandardError, StringComparison.Ordinal);
        AssertEventLogReplaysToGuestPcrs(first);
        Assert.Contains("variable store written back", first.Process.StandardError, StringComparison.Ordinal);
        byte[] nvramAfter = ReadEntry(vm, VmgsEntryId.UefiNvram);
        Assert.Equal(nvramBefore.Length, nvramAfter.Length);
        Assert.NotEqual(nvramBefore, nvramAfter); // OVMF recorded its boot options, and they went back into the VMGS

        byte[] ekAfterFirst = vm.ReadEkCertificate();
        BootRun second = vm.Boot(images.Trusted.RawPath);
        Assert.True(second.Process.ExitCode == 0 && second.Outcome == "booted", second.ToString());
        Assert.Equal("2.0", second.Fact("tpm"));
        AssertEventLogReplaysToGuestPcrs(second);
        byte[] ekAfterSecond = vm.ReadEkCertificate();
        Assert.Equal(ekBefore, ekAfterFirst);
        Assert.Equal(ekBefore, ekAfterSecond);
        // Same firmware, same disk, same keys: the measured boot is the same on the second boot.
        Assert.Equal(first.Fact("pcr-sha256-7"), second.Fact("pcr-sha256-7"));
        Assert.Equal(first.Fact("pcr-sha256-4"), second.Fact("pcr-sha256-4"));

        VmgsVm other = VmgsVm.Create("microsoft");
        BootRun otherBoot = other.Boot(images.Trusted.RawPath);
        Assert.True(otherBoot.Process.ExitCode == 0 && otherBoot.Outcome == "booted", otherBoot.ToString());
        Assert.Equal(other.VmId.ToString(), otherBoot.Fact("product-uuid"), ignoreCase: true);
        Assert.NotEqual(ekBefore, other.ReadEkCertificate());
    }

    [Fact]
    public void Boot_CustomKeyVmgs_SecureBootViolationExit1()
    {
        // Only a test key in db: Debian's Microsoft-signed shim is not allowed.
        string dir = RepositoryPaths.NewTempDirectory("tl-vmgs-custom");
        string cert = Path.Combine(dir, "db.pem");
        ToolResult made = ExternalTool.Run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", Path.Combine(dir, "db.key"),
            "-out", cert, "-days", "30", "-subj", "/CN=TrustedLaunch test db"]);
        Assert.True(made.ExitCode == 0, made.ToString());
        VmgsVm vm = VmgsVm.Create("custom", "--db", cert);
        BootRun run = vm.Boot(images.Trusted.RawPath);
        Assert.True(run.Process.ExitCode == 1 && run.Outcome == "secureBootViolation", run.ToString());
        Assert.Contains("Access Denied", run.Process.StandardOutput + run.Console, StringComparison.Ordinal);
    }

    private void AssertEventLogReplaysToGuestPcrs(BootRun run)
    {
        byte[] log = GuestEventLog(run.Console) ?? throw new InvalidOperationException("the guest printed no event log");
        EventLogReplay replay = EventLogReplay.Replay(TcgEventLog.Parse(log));
        PcrBankReplay sha256 = replay.Bank(TpmAlgId.Sha256) ?? throw new InvalidOperationException("no SHA-256 bank in the guest's event log");
        for (int pcr = 0; pcr <= 9; pcr++)
        {
            string guest = run.Fact($"pcr-sha256-{pcr}");
            Assert.False(string.IsNullOrEmpty(guest), $"the guest printed no PCR {pcr}");
            Assert.True(string.Equals(Convert.ToHexString(sha256.Value(pcr)), guest, StringComparison.OrdinalIgnoreCase),
                $"PCR {pcr}: the guest reads {guest}, its event log replays to {Convert.ToHexString(sha256.Value(pcr))} ({sha256.EventCount(pcr)} events)");
        }

        Assert.True(sha256.EventCount(7) > 0 && sha256.EventCount(4) > 0, "Secure Boot state (PCR 7) and boot applications (PCR 4) are measured");
        output.WriteLine($"event log: {log.Length} bytes, {replay.Log.Events.Count} events replay to the guest's PCRs 0-9");
    }

    internal static byte[] ReadEntry(VmgsVm vm, VmgsEntryId entry)
    {
        using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Load(vm.KekPath);
        using VmgsFile file = VmgsFile.Open(vm.VmgsPath, kek, writable: false);
        return file.ReadEntry(entry) ?? throw new InvalidOperationException($"no {entry} entry");
    }

    /// <summary>The gzip+base64 lines between the guest's event-log markers, decoded; null when the markers are missing.</summary>
    internal static byte[]? GuestEventLog(string console)
    {
        int begin = console.IndexOf("TL-GUEST: event-log-gzip-base64-begin", StringComparison.Ordinal);
        int end = console.IndexOf("TL-GUEST: event-log-gzip-base64-end", StringComparison.Ordinal);
        if (begin < 0 || end < begin)
            return null;
        var base64 = new System.Text.StringBuilder();
        foreach (string line in console[begin..end].Split('\n').Skip(1))
        {
            string text = line.Trim();
            if (Base64Line().IsMatch(text))
                base64.Append(text);
        }

        using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(Convert.FromBase64String(base64.ToString())), System.IO.Compression.CompressionMode.Decompress);
        using var log = new MemoryStream();
        gzip.CopyTo(log);
        return log.ToArray();
    }

    [GeneratedRegex("^[A-Za-z0-9+/=]+$")]
    private static partial Regex Base64Line();
}
