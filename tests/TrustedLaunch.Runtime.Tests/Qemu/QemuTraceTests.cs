using System.Text.RegularExpressions;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Runtime.Acceleration;
using TrustedLaunch.Runtime.Firmware;
using TrustedLaunch.Runtime.Qemu;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Runtime.Tests.Qemu;

public sealed class QemuTraceTests
{
    private static QemuLaunchSpec Spec(string dir) => new()
    {
        Accelerator = Accelerator.Tcg,
        Firmware = null,
        VariableStoreCopy = null,
        Disks = [new VmDisk("/dev/null", DiskImageFormat.Raw, ReadOnly: true)],
        MemoryMiB = 128,
        Cpus = 1,
        ConsoleLog = Path.Combine(dir, "console.log"),
        QmpSocket = Path.Combine(dir, "qmp.sock"),
    };

    [Fact]
    public void Build_Trace_EnablesEachPatternIntoTheFileWithTimestamps()
    {
        string dir = RepositoryPaths.NewTempDirectory();
        QemuTrace trace = QemuTrace.Create("tpm_emulator_*, tpm_crb_mmio_read,tpm_?is_*", Path.Combine(dir, "trace,1.log"));
        string line = string.Join(' ', QemuCommandLine.Build(Spec(dir) with { Trace = trace }));

        Assert.Contains("-trace enable=tpm_emulator_* -trace enable=tpm_crb_mmio_read -trace enable=tpm_?is_*", line, StringComparison.Ordinal);
        Assert.Contains($"-D {Path.Combine(dir, "trace,1.log")} -msg timestamp=on", line, StringComparison.Ordinal); // -D takes a plain path
    }

    [Fact]
    public void Build_NoTrace_NoTraceOptions()
    {
        IReadOnlyList<string> args = QemuCommandLine.Build(Spec(RepositoryPaths.NewTempDirectory()));
        Assert.DoesNotContain("-trace", args);
        Assert.DoesNotContain("-D", args);
        Assert.DoesNotContain("-msg", args);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" , ")]
    [InlineData("tpm_*,")] // an empty pattern in the list
    [InlineData("help")] // QEMU would print its event list and exit
    [InlineData("?")]
    [InlineData("tpm_*=on")]
    [InlineData("file=/tmp/x")] // another -trace option smuggled in
    [InlineData("tpm-crb")]
    [InlineData("tpm *")]
    public void Create_NotAnEventPattern_BadInput(string patterns)
    {
        var e = Assert.Throws<VmRuntimeException>(() => QemuTrace.Create(patterns, Path.Combine(RepositoryPaths.NewTempDirectory(), "t.log")));
        Assert.Equal(VmRuntimeFailure.BadInput, e.Failure);
        Assert.Contains("trace pattern", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_FileIsADirectoryOrInAMissingFolder_BadInput()
    {
        string dir = RepositoryPaths.NewTempDirectory();
        Assert.Equal(VmRuntimeFailure.BadInput, Assert.Throws<VmRuntimeException>(() => QemuTrace.Create("tpm_*", dir)).Failure);
        Assert.Equal(VmRuntimeFailure.BadInput, Assert.Throws<VmRuntimeException>(() => QemuTrace.Create("tpm_*", Path.Combine(dir, "no", "t.log"))).Failure);
        Assert.Equal(VmRuntimeFailure.BadInput, Assert.Throws<VmRuntimeException>(() => QemuTrace.Create("tpm_*", " ")).Failure);
    }

    [Fact]
    public void Create_RelativeFile_Resolved()
    {
        QemuTrace trace = QemuTrace.Create("tpm_*", "t.log");
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "t.log"), trace.File);
        Assert.Equal(["tpm_*"], trace.Patterns);
    }

    [Fact]
    [IntegrationTest]
    public async Task Build_Trace_QemuWritesTimestampedEventsToTheFile()
    {
        // QEMU is the oracle: it accepts the options and its log backend writes "TID@SECONDS.MICROS:event args" lines.
        string dir = RepositoryPaths.NewTempDirectory();
        QemuTrace trace = QemuTrace.Create("runstate_set", Path.Combine(dir, "qemu-trace.log"));
        var spec = Spec(dir) with { Trace = trace };
        using var qemu = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("qemu-system-x86_64", QemuCommandLine.Build(spec))
        {
            RedirectStandardError = true,
        })!;
        string text = "";
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!qemu.HasExited && DateTime.UtcNow < deadline && !text.Contains("(running)", StringComparison.Ordinal))
            {
                await Task.Delay(50);
                text = File.Exists(trace.File) ? await File.ReadAllTextAsync(trace.File) : "";
            }
        }
        finally
        {
            if (!qemu.HasExited)
                qemu.Kill();
            await qemu.WaitForExitAsync();
        }

        Assert.Matches(new Regex(@"^\d+@\d{10}\.\d{6}:runstate_set .*new_state \d+ \(running\)", RegexOptions.Multiline), text);
    }
}
