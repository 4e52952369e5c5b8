using TrustedLaunch.HostSystem;
using TrustedLaunch.Runtime.Acceleration;
using TrustedLaunch.Runtime.Firmware;
using TrustedLaunch.Runtime.Qemu;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Runtime.Tests.Qemu;

[IntegrationTest]
public sealed class QemuCommandLineTests
{
    private static QemuLaunchSpec Spec(bool secureBoot = true, string? tpm = "/run/x/vtpm.ctrl", bool network = false) => new()
    {
        Accelerator = Accelerator.Tcg,
        Firmware = OvmfFirmware.Locate(secureBoot),
        VariableStoreCopy = "/run/x/vars,1.fd",
        Disks = [new VmDisk("/images/d.qcow2", DiskImageFormat.Qcow2)],
        MemoryMiB = 512,
        Cpus = 1,
        ConsoleLog = "/run/x/console.log",
        QmpSocket = "/run/x/qmp.sock",
        AgentSocket = "/run/x/agent.sock",
        VTpmControlSocket = tpm,
        Network = network,
    };

    [Fact]
    public void Build_Default_HidesVmxAndSvm()
    {
        // QEMU's TCG default model (qemu64) shows SVM and KVM's host model VMX/SVM: without hiding them a guest could nest.
        Assert.Contains("-cpu qemu64,-vmx,-svm", string.Join(' ', QemuCommandLine.Build(Spec())), StringComparison.Ordinal);
        Assert.Contains("-cpu host,-vmx,-svm", string.Join(' ', QemuCommandLine.Build(Spec() with { Accelerator = Accelerator.Kvm })), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_NestedVirtualization_CpuModelAsIs()
    {
        Assert.Equal("qemu64", CpuOf(Spec(secureBoot: false, tpm: null) with { NestedVirtualization = true }));
        Assert.Equal("host", CpuOf(Spec(secureBoot: false, tpm: null) with { NestedVirtualization = true, Accelerator = Accelerator.Kvm }));
    }

    private static string CpuOf(QemuLaunchSpec spec)
    {
        IReadOnlyList<string> args = QemuCommandLine.Build(spec);
        int i = args.ToList().IndexOf("-cpu");
        Assert.True(i >= 0, "no -cpu");
        return args[i + 1];
    }

    [Fact]
    public void Build_TrustedLaunch_SmmSecurePflashTpmCrbAgentPort()
    {
        string line = string.Join(' ', QemuCommandLine.Build(Spec()));
        Assert.Contains("-machine q35,smm=on", line, StringComparison.Ordinal);
        Assert.Contains("-global driver=cfi.pflash01,property=secure,value=on", line, StringComparison.Ordinal);
        Assert.Contains("OVMF_CODE_4M.secboot.fd", line, StringComparison.Ordinal);
        Assert.Contains("file=/run/x/vars,,1.fd", line, StringComparison.Ordinal); // comma escaped
        Assert.Contains("-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-crb,tpmdev=tpm0", line, StringComparison.Ordinal);
        Assert.Contains("name=org.trustedlaunch.agent.0", line, StringComparison.Ordinal);
        Assert.Contains("format=qcow2", line, StringComparison.Ordinal);
        Assert.Contains("-nic none", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WithoutTrustedLaunch_PlainFirmwareNoTpm()
    {
        string line = string.Join(' ', QemuCommandLine.Build(Spec(secureBoot: false, tpm: null, network: true)));
        Assert.DoesNotContain("secboot", line, StringComparison.Ordinal);
        Assert.DoesNotContain("property=secure", line, StringComparison.Ordinal);
        Assert.DoesNotContain("tpm", line, StringComparison.Ordinal);
        Assert.Contains("-netdev user,id=net0", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_QemuAcceptsIt()
    {
        // QEMU itself is the oracle: with -S it parses and realizes every device and option, then we quit at once.
        string dir = Testing.RepositoryPaths.NewTempDirectory();
        var spec = Spec(tpm: null) with
        {
            Disks = [new VmDisk("/dev/null", DiskImageFormat.Raw, ReadOnly: true)],
            VariableStoreCopy = CopyVars(),
            AgentSocket = Path.Combine(dir, "agent.sock"),
            QmpSocket = Path.Combine(dir, "qmp.sock"),
            ConsoleLog = Path.Combine(dir, "console.log"),
        };
        var args = QemuCommandLine.Build(spec).Concat(["-S"]).ToList();
        using var qemu = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("qemu-system-x86_64", args)
        {
            RedirectStandardError = true,
        })!;
        bool exited = qemu.WaitForExit(3000);
        if (!exited)
            qemu.Kill();
        qemu.WaitForExit();
        Assert.False(exited, "QEMU rejected the command line: " + qemu.StandardError.ReadToEnd());
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task Build_TheGuestCpuShowsSvmOnlyWithNestedVirtualization(bool nested, bool svm)
    {
        // QEMU's own CPU object (paused before the first instruction) says what the guest's CPUID will show.
        string dir = Testing.RepositoryPaths.NewTempDirectory();
        var spec = Spec(secureBoot: false, tpm: null) with
        {
            Firmware = null,
            VariableStoreCopy = null,
            Disks = [new VmDisk("/dev/null", DiskImageFormat.Raw, ReadOnly: true)],
            AgentSocket = Path.Combine(dir, "agent.sock"),
            QmpSocket = Path.Combine(dir, "qmp.sock"),
            ConsoleLog = Path.Combine(dir, "console.log"),
            NestedVirtualization = nested,
        };
        using var qemu = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("qemu-system-x86_64", [.. QemuCommandLine.Build(spec), "-S"])
        {
            RedirectStandardError = true,
        })!;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!File.Exists(spec.QmpSocket) && !qemu.HasExited && DateTime.UtcNow < deadline)
                await Task.Delay(50);
            Assert.True(File.Exists(spec.QmpSocket), "QEMU did not open its QMP socket");
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(spec.QmpSocket));
            using var stream = new System.Net.Sockets.NetworkStream(socket);
            using var reader = new StreamReader(stream);
            using var writer = new StreamWriter(stream) { AutoFlush = true, NewLine = "\n" };
            await reader.ReadLineAsync(); // the greeting
            await QmpAsync(reader, writer, "{\"execute\":\"qmp_capabilities\"}");

            Task<System.Text.Json.JsonElement> CpuAsync(string feature) => QmpAsync(reader, writer,
                $"{{\"execute\":\"qom-get\",\"arguments\":{{\"path\":\"/machine/unattached/device[0]\",\"property\":\"{feature}\"}}}}");
            Assert.Equal(svm, (await CpuAsync("svm")).GetBoolean());
            Assert.False((await CpuAsync("vmx")).GetBoolean()); // TCG does not emulate VMX
        }
        finally
        {
            if (!qemu.HasExited)
                qemu.Kill();
            await qemu.WaitForExitAsync();
        }
    }

    private static async Task<System.Text.Json.JsonElement> QmpAsync(StreamReader reader, StreamWriter writer, string command)
    {
        await writer.WriteLineAsync(command);
        while (await reader.ReadLineAsync() is string line)
        {
            using var answer = System.Text.Json.JsonDocument.Parse(line);
            if (answer.RootElement.TryGetProperty("return", out System.Text.Json.JsonElement value))
                return value.Clone();
            Assert.False(answer.RootElement.TryGetProperty("error", out _), $"QMP {command}: {line}");
        }

        throw new IOException("QEMU closed QMP");
    }

    [Fact]
    public void Build_Bios_NoPflashNoSmmNoTpm_QemuBootsItsDefaultSeaBios()
    {
        string line = string.Join(' ', QemuCommandLine.Build(Spec(tpm: null) with { Firmware = null, VariableStoreCopy = null }));
        Assert.Contains("-machine q35,smm=off", line, StringComparison.Ordinal);
        Assert.DoesNotContain("pflash", line, StringComparison.Ordinal);
        Assert.DoesNotContain("tpm", line, StringComparison.Ordinal);
        Assert.Contains("bootindex=1", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_UefiWithoutItsVariableStoreCopy_BadInput()
    {
        var e = Assert.Throws<VmRuntimeException>(() => QemuCommandLine.Build(Spec() with { VariableStoreCopy = null }));
        Assert.Equal(VmRuntimeFailure.BadInput, e.Failure);
    }

    [Theory]
    [InlineData(64, 1)]
    [InlineData(512, 0)]
    public void Build_OutOfRange_Throws(int memory, int cpus)
    {
        var e = Assert.Throws<VmRuntimeException>(() => QemuCommandLine.Build(Spec() with { MemoryMiB = memory, Cpus = cpus }));
        Assert.Equal(VmRuntimeFailure.BadInput, e.Failure);
    }

    private static string CopyVars()
    {
        string path = Path.Combine(Testing.RepositoryPaths.NewTempDirectory(), "vars.fd");
        File.Copy(OvmfFirmware.Locate(true).MicrosoftVarsTemplatePath, path);
        return path;
    }
}
