using TrustedLaunch.Runtime.Console;
using TrustedLaunch.Runtime.VTpm;
using TrustedLaunch.Storage;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Runtime.Tests.Boot;

[Collection(BootGroup.Name)]
[IntegrationTest]
public sealed class VirtualMachineBootTests(BootFixture images)
{
    private static readonly TimeSpan BootTimeout = TimeSpan.FromMinutes(4);

    private static VirtualMachineOptions Options(string disk, string vars, bool secureBoot, bool vtpm) => new()
    {
        Disk = disk,
        VariableStore = new FileNonVolatileStore(vars),
        SecureBoot = secureBoot,
        VTpm = vtpm ? new VTpmOptions { Program = "swtpm", Flavor = VTpmFlavor.Swtpm } : null,
        MemoryMiB = 512,
        ConsoleLog = Path.Combine(Path.GetDirectoryName(vars)!, "console.log"),
    };

    [Fact]
    public async Task Boot_DebianMicrosoftKeysWithVTpm_BootedSecureBootOnTpm2ThenAcpiPowerOff()
    {
        string vars = BootFixture.MicrosoftVars();
        byte[] before = File.ReadAllBytes(vars);
        VirtualMachineOptions options = Options(images.Trusted.RawPath, vars, secureBoot: true, vtpm: true);
        await using VirtualMachine vm = await VirtualMachine.StartAsync(options);
        BootVerdict verdict = await vm.WaitForVerdictAsync(BootTimeout);
        Assert.True(verdict.Outcome == BootOutcome.Booted, $"{verdict.Outcome}: {verdict.Summary}\n{File.ReadAllText(options.ConsoleLog!)}");
        Assert.Equal("enabled", verdict.GuestFacts["secure-boot"]);
        Assert.Equal("2.0", verdict.GuestFacts["tpm"]);
        Assert.Equal("present", verdict.GuestFacts["event-log"]);
        Assert.StartsWith("rejected ttyprintk", verdict.GuestFacts["module-unsigned"], StringComparison.Ordinal);
        Assert.Equal("/dev/virtio-ports/org.trustedlaunch.agent.0", verdict.GuestFacts["agent-port"]);
        Assert.True(File.Exists(vm.AgentSocket));

        int qemuPid = vm.QemuProcessId;
        int vtpmPid = vm.VTpmProcessId!.Value;
        VmStopReport report = await vm.ShutdownAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("guest powered off (ACPI)", report.How);
        Assert.Equal("guest-shutdown", report.ShutdownReason); // QEMU's SHUTDOWN event, read from the QMP socket after QEMU exited
        Assert.False(report.GuestReset);
        Assert.Contains("TL-GUEST: power-button", File.ReadAllText(options.ConsoleLog!), StringComparison.Ordinal);
        Assert.False(Directory.Exists($"/proc/{qemuPid}"), "QEMU still running");
        Assert.False(Directory.Exists($"/proc/{vtpmPid}"), "vTPM still running");
        Assert.False(Directory.Exists(vm.RunDirectory));
        // OVMF records its boot options on first boot: the store was written back, and it is still a full store.
        Assert.True(report.VariableStorePersisted);
        Assert.Equal(before.Length, new FileInfo(vars).Length);
        Assert.NotEqual(before, File.ReadAllBytes(vars));
    }

    [Fact]
    public async Task Boot_UnsignedGrubSecureBootOn_ShimRefusesIt()
    {
        string vars = BootFixture.MicrosoftVars();
        VirtualMachineOptions options = Options(images.UnsignedGrub.RawPath, vars, secureBoot: true, vtpm: true);
        await using VirtualMachine vm = await VirtualMachine.StartAsync(options);
        BootVerdict verdict = await vm.WaitForVerdictAsync(BootTimeout);
        Assert.True(verdict.Outcome == BootOutcome.SecureBootViolation, $"{verdict.Outcome}: {verdict.Summary}");
        Assert.Equal(RefusingComponent.Shim, verdict.Refusal!.RefusedBy);
        Assert.Contains("Security Violation", verdict.Refusal.Message, StringComparison.Ordinal);
        await vm.KillAsync();
    }

    [Fact]
    public async Task Boot_UnsignedGrubSecureBootOff_BootsAndUnsignedModuleTaints()
    {
        string vars = BootFixture.MicrosoftVars();
        VirtualMachineOptions options = Options(images.UnsignedGrub.RawPath, vars, secureBoot: false, vtpm: false);
        await using VirtualMachine vm = await VirtualMachine.StartAsync(options);
        BootVerdict verdict = await vm.WaitForVerdictAsync(BootTimeout);
        Assert.True(verdict.Outcome == BootOutcome.Booted, $"{verdict.Outcome}: {verdict.Summary}\n{File.ReadAllText(options.ConsoleLog!)}");
        Assert.Equal("disabled", verdict.GuestFacts["secure-boot"]);
        Assert.Equal("none", verdict.GuestFacts["tpm"]);
        Assert.StartsWith("loaded ttyprintk", verdict.GuestFacts["module-unsigned"], StringComparison.Ordinal);
        int pid = vm.QemuProcessId;
        VmStopReport report = await vm.KillAsync();
        Assert.Equal("killed", report.How);
        Assert.False(Directory.Exists($"/proc/{pid}"));
    }
}
