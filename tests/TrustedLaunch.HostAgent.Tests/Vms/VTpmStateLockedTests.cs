using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.HostAgent.Tests.Lifecycle;
using TrustedLaunch.HostAgent.Tests.Platform;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.Testing;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.HostAgent.Tests.Vms;

/// <summary>
/// A Trusted Launch VM whose vTPM state cannot be opened fails its start with <c>VTpmStateLocked</c> (Azure's "vTPM state is
/// locked"), never with a re-manufactured TPM: the real supervisor starts the real runtime on a real VMGS made by the real
/// provisioner (qemu-img, libtpms, the platform CA), damaged four ways; the VMGS is left byte for byte as it was and no QEMU
/// or tl-vtpm stays behind. The refusal comes before QEMU, so no guest boots.
/// </summary>
[Collection(LifecycleHost.Collection)]
[IntegrationTest]
public sealed class VTpmStateLockedTests
{
    [Theory]
    [InlineData("vtpm-entry-flipped", "VTpmStateLocked", "the vtpm entry does not decrypt")]
    [InlineData("wrong-host-key", "VTpmStateLocked", "does not open with")]
    [InlineData("vtpm-entry-not-libtpms-state", "VTpmStateLocked", "tl-vtpm: state refused")]
    [InlineData("uefi-nvram-entry-flipped", "GuestStateLocked", "the uefi-nvram entry does not decrypt")]
    public async Task Start_GuestStateThatDoesNotOpen_FailsByNameLeavesTheVmgsUntouchedAndNothingRunning(string damage, string code, string reason)
    {
        string root = RepositoryPaths.NewTempDirectory("tl-vtpm-locked");
        var options = new HostAgentOptions
        {
            Server = new Uri("http://127.0.0.1:9"), // never called: reports go to the queue below
            HostName = "locked",
            DataDirectory = Path.Combine(root, "data"),
            CaDirectory = Path.Combine(root, "pki"),
            VTpmProgram = Path.Combine(AppContext.BaseDirectory, "tl-vtpm"),
        };
        FilePlatformCa ca = FilePlatformCa.Create(options.CaDirectory, "TrustedLaunch test");
        string hostKey = HostKey.Ensure(options.HostDirectory);
        string image = Path.Combine(root, "image.raw");
        File.WriteAllBytes(image, new byte[1024 * 1024]);
        var vmId = Guid.NewGuid();
        var folder = new VmFolder(options.VmsDirectory, options.RunRoot, vmId);
        VmRuntimeSpec spec = Spec(image);
        VmProvisioner.Create(folder, spec, hostKey, () => ca);

        Damage(damage, folder.Vmgs, hostKey);
        byte[] before = SHA256.HashData(File.ReadAllBytes(folder.Vmgs));

        var reports = new BlockingCollection<VmReport>();
        using var client = new ControlPlaneClient(options.Server);
        var context = new HostAgentContext(options, client, NullLogger.Instance, hostKey, () => ca, reports.Add);
        VmReport failed;
        await using (var supervisor = new VmSupervisor(context, vmId))
        {
            supervisor.Desire(new VmAssignment
            {
                VmId = vmId, ResourceId = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1", Name = "vm1",
                Version = 1, DesiredPowerState = "Running", RestartGeneration = 0, Spec = spec,
            });
            failed = Next(reports, r => r.Error is not null);
        }

        Assert.Equal(code, failed.Error!.Code);
        Assert.Contains(reason, failed.Error.Message, StringComparison.Ordinal);
        if (code == "VTpmStateLocked")
            Assert.Contains("vTPM) state is locked", failed.Error.Message, StringComparison.Ordinal);
        Assert.Equal("Stopped", failed.PowerState);
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(folder.Vmgs))); // nothing re-manufactured, nothing written back
        Assert.True(folder.Exists, "an existing VM's files stay (its owner restores or deletes them)");
        Assert.Empty(PlatformHome.ProcessesOf(vmId));
    }

    private static void Damage(string damage, string vmgs, string hostKey)
    {
        switch (damage)
        {
            case "vtpm-entry-flipped":
                FlipEntryByte(vmgs, hostKey, VmgsEntryId.VTpmState);
                break;
            case "uefi-nvram-entry-flipped":
                FlipEntryByte(vmgs, hostKey, VmgsEntryId.UefiNvram);
                break;
            case "wrong-host-key":
                File.Delete(hostKey);
                VmgsKeyEncryptionKey.Generate(hostKey).Dispose();
                break;
            case "vtpm-entry-not-libtpms-state":
                // Authenticated by the VMGS (written with its key), but not a vTPM state: only tl-vtpm can tell.
                using (VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Load(hostKey))
                using (VmgsFile file = VmgsFile.Open(vmgs, kek, writable: true))
                    file.WriteEntry(VmgsEntryId.VTpmState, RandomNumberGenerator.GetBytes(8192));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(damage));
        }
    }

    private static void FlipEntryByte(string vmgs, string hostKey, VmgsEntryId entry)
    {
        long offset;
        using (VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Load(hostKey))
        using (VmgsFile file = VmgsFile.Open(vmgs, kek, writable: false))
        {
            VmgsEntry found = file.Header.Find(entry) ?? throw new InvalidOperationException($"no {entry}");
            offset = found.Offset + (found.Length / 2);
        }

        using var stream = new FileStream(vmgs, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        int b = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(b ^ 0x40));
    }

    private static VmReport Next(BlockingCollection<VmReport> reports, Func<VmReport, bool> wanted)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (true)
        {
            VmReport report = reports.Take(timeout.Token);
            if (wanted(report))
                return report;
        }
    }

    internal static VmRuntimeSpec Spec(string image) => new()
    {
        VmSize = "Standard_B1s", VCpus = 1, MemoryInMB = 512, HyperVGeneration = "V2", ImageUrn = "test:test:test:1.0.0", ImagePath = image,
        SecurityType = "TrustedLaunch", SecureBootEnabled = true, VTpmEnabled = true, Extensions = new TrustedLaunchExtensions(),
        ComputerName = "vm1", OsDiskName = "vm1_OsDisk", OsDiskDeleteOption = "Delete", DataDisks = [],
    };
}
