using TrustedLaunch.HostSystem.Processes;
using TrustedLaunch.Runtime.Acceleration;
using TrustedLaunch.Runtime.Firmware;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Runtime.Tests;

/// <summary>The run record a supervisor adopts a VM from: written durably, read back whole, absent means "nothing runs here".</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class VmRunRecordTests
{
    [Fact]
    public void WriteRead_RoundTripsEveryMember()
    {
        string dir = RepositoryPaths.NewTempDirectory("tl-run-record");
        var record = new VmRunRecord
        {
            Qemu = new ProcessIdentity(4242, 987654),
            VTpm = new ProcessIdentity(4241, 987650),
            Accelerator = new AcceleratorChoice(Accelerator.Tcg, "no /dev/kvm"),
            Firmware = new OvmfFirmware("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "/v.fd", "/ms.fd", SecureBoot: true, FlashMiB: 4),
            QemuArguments = ["-machine", "q35,smm=on"],
            ConsoleLog = "/vms/x/console.log",
            AgentSocket = "/tmp/r/agent.sock",
            QmpSocket = "/tmp/r/qmp.sock",
            VariableStoreCopy = "/tmp/r/OVMF_VARS.fd",
            InitialVariableStoreLength = 540672,
            InitialVariableStoreSha256 = "ab",
            StartedAt = new DateTime(2026, 12, 5, 10, 0, 0, DateTimeKind.Utc),
        };

        record.Write(dir);
        VmRunRecord? read = VmRunRecord.Read(dir);

        Assert.NotNull(read);
        Assert.Equal(record with { QemuArguments = read.QemuArguments }, read);
        Assert.Equal(record.QemuArguments, read.QemuArguments);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(VmRunRecord.PathIn(dir)));
    }

    [Fact]
    public void Read_NoRecord_Null_Garbage_BadInput()
    {
        string dir = RepositoryPaths.NewTempDirectory("tl-run-record");
        Assert.Null(VmRunRecord.Read(dir));

        File.WriteAllText(VmRunRecord.PathIn(dir), "{ not json");
        var e = Assert.Throws<VmRuntimeException>(() => VmRunRecord.Read(dir));
        Assert.Equal(VmRuntimeFailure.BadInput, e.Failure);
    }
}
