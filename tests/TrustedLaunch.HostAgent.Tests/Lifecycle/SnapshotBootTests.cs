using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.GuestChannel.Host;
using TrustedLaunch.HostAgent.Lifecycle;
using TrustedLaunch.HostAgent.Tests.Platform;
using TrustedLaunch.HostAgent.Tests.Vms;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.Images;
using TrustedLaunch.Runtime;
using TrustedLaunch.Runtime.Console;
using TrustedLaunch.Runtime.GuestState;
using TrustedLaunch.Testing;
using TrustedLaunch.VTpm.Identity;
using Xunit.Abstractions;

namespace TrustedLaunch.HostAgent.Tests.Lifecycle;

/// <summary>
/// Two real TCG boots of the Debian image with the guest agent, from guest state the lifecycle verbs made: a VM restored
/// from its snapshot attests with its original vTPM, and its quote is older than what its vTPM had reached after the
/// snapshot — refused as a rollback against that record, accepted against the floor a sanctioned restore sets; a VM made
/// from the same snapshot boots with a new EK and AK and attests under its own id only. A third boot: a VM backed up
/// (<c>tl backup create</c>), deleted and restored (<c>tl backup restore</c>) attests with its original identity; a fourth:
/// a VM moved to another host's data folder (<c>tl host move-vm</c>, re-keyed) boots there and attests as itself.
/// </summary>
[Collection(LifecycleHost.Collection)]
[IntegrationTest]
public sealed class SnapshotBootTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RestoredVm_AttestsWithItsIdentity_QuoteClockRolledBack_CopyAttestsUnderItsOwnIdWithANewEk()
    {
        DebianImage image = LifecycleHost.AgentImage();
        LifecycleHost host = LifecycleHost.Fresh();
        VmFolder vm = host.Folder(Guid.NewGuid());
        IReadOnlyList<VTpmKeyReport> keys = VmProvisioner.Create(vm, VTpmStateLockedTests.Spec(image.RawPath), host.HostKeyPath, () => host.Ca);

        // The snapshot's floor: the vTPM's clock when it was taken (no quote can have been accepted later than this).
        QuoteClock floor;
        using (VmgsVTpm tpm = VmgsVTpm.Start(vm.Vmgs, host.HostKeyPath))
            floor = ReadClock(tpm);
        SnapshotManifest snapshot = VmSnapshots.Take(vm, host.Snapshots, Guid.NewGuid(), host.HostKeyPath, DateTimeOffset.UtcNow);

        // The VM's vTPM moves on after the snapshot (three more starts, each a TPM restart); a verifier would have seen quotes this late.
        QuoteClock later = floor;
        for (int i = 0; i < 3; i++)
        {
            using VmgsVTpm tpm = VmgsVTpm.Start(vm.Vmgs, host.HostKeyPath);
            later = ReadClock(tpm);
        }

        Assert.True(later.RegressionFrom(floor) is null && later != floor, $"{floor} -> {later}"); // tl-vtpm's orderly stops make these restarts
        VmSnapshots.Restore(vm, VmSnapshots.Folder(host.Snapshots, snapshot.SnapshotId), host.HostKeyPath);

        X509Certificate2Collection anchors = [host.Ca.RootCertificate, host.Ca.AttestationKeyCa.Certificate];
        (AttestationEvidence restored, byte[] nonce) = await BootAndAttestAsync(vm, host.HostKeyPath, "restored");
        var verifier = new AttestationVerifier(TimeProvider.System);
        AttestationResult unsanctioned = verifier.Verify(restored, new AttestationExpectations { VmId = vm.VmId, Nonce = nonce, AkCaCertificates = anchors, PreviousQuoteClock = later });
        AttestationResult sanctioned = verifier.Verify(restored, new AttestationExpectations { VmId = vm.VmId, Nonce = nonce, AkCaCertificates = anchors, PreviousQuoteClock = floor });

        Assert.False(unsanctioned.Passed);
        Assert.Contains("went back", unsanctioned.Failure!.Message, StringComparison.Ordinal);
        Assert.True(sanctioned.Passed, sanctioned.Failure?.ToString());
        Assert.Equal(vm.VmId, sanctioned.VmId);
        string akPem = Assert.Single(keys, k => k.Role == "ak-rsa2048").CertificatePem!;
        Assert.Equal(X509Certificate2.CreateFromPem(akPem).RawData, restored.Tpm.AkCertificate);

        // A new VM from the same snapshot: its own vTPM, new EK and AK, its own id.
        VmFolder copy = host.Folder(Guid.NewGuid());
        VTpmIdentity copyIdentity = VmSnapshots.CreateVm(VmSnapshots.Folder(host.Snapshots, snapshot.SnapshotId), copy, host.HostKeyPath, () => host.Ca)!;
        (AttestationEvidence copied, byte[] copyNonce) = await BootAndAttestAsync(copy, host.HostKeyPath, "copy");
        AttestationResult asItself = verifier.Verify(copied, new AttestationExpectations { VmId = copy.VmId, Nonce = copyNonce, AkCaCertificates = anchors });
        AttestationResult asSource = verifier.Verify(copied, new AttestationExpectations { VmId = vm.VmId, Nonce = copyNonce, AkCaCertificates = anchors });

        Assert.True(asItself.Passed, asItself.Failure?.ToString());
        Assert.Equal(copy.VmId, asItself.VmId);
        Assert.False(asSource.Passed);
        Assert.NotEqual(restored.Tpm.AkCertificate, copied.Tpm.AkCertificate);
        Assert.NotEqual(Assert.Single(keys, k => k.Role == "ek-rsa2048").PublicKeyPem, Assert.Single(copyIdentity.Keys, k => k.Role == "ek-rsa2048").PublicKeyPem);
    }

    [Fact]
    public async Task RunningVm_SnapshotTakenWhileItRuns_TheGuestRunsOnAndAttests_AVmFromTheSnapshotBootsAndAttests()
    {
        LifecycleHost host = LifecycleHost.Fresh();
        VmFolder vm = host.Folder(Guid.NewGuid());
        IReadOnlyList<VTpmKeyReport> keys = VmProvisioner.Create(vm, VTpmStateLockedTests.Spec(LifecycleHost.AgentImage().RawPath), host.HostKeyPath, () => host.Ca);
        X509Certificate2Collection anchors = [host.Ca.RootCertificate, host.Ca.AttestationKeyCa.Certificate];
        var verifier = new AttestationVerifier(TimeProvider.System);
        Guid snapshotId = Guid.NewGuid();

        await using (VirtualMachine machine = await VirtualMachine.StartAsync(LaunchOptions(vm, host.HostKeyPath)))
        {
            BootVerdict verdict = await machine.WaitForVerdictAsync(TimeSpan.FromMinutes(6));
            Assert.True(verdict.Outcome == BootOutcome.Booted, $"{verdict.Outcome}: {verdict.Summary}\n{ConsoleTail.Read(vm.ConsoleLog)}");
            await using GuestAgentConnection agent = await GuestAgentConnection.ConnectAsync(machine.AgentSocket);
            (AttestationEvidence before, byte[] beforeNonce) = await EvidenceAsync(agent);

            // tl-vtpm holds the VMGS writer lock all along: the stopped-VM path is refused, the paused one copies the pair.
            Assert.Throws<VmLifecycleException>(() => VmSnapshots.Take(vm, host.Snapshots, Guid.NewGuid(), host.HostKeyPath, DateTimeOffset.UtcNow));
            var paused = System.Diagnostics.Stopwatch.StartNew();
            SnapshotManifest snapshot = await machine.RunPausedAsync(variables =>
                VmSnapshots.TakeRunning(vm, host.Snapshots, snapshotId, host.HostKeyPath, DateTimeOffset.UtcNow, variables));
            output.WriteLine($"running snapshot: guest paused {paused.ElapsedMilliseconds} ms, disk {snapshot.Disk.Length} bytes");

            // The guest runs on and attests again, with a quote no older than the one before the snapshot.
            (AttestationEvidence after, byte[] afterNonce) = await EvidenceAsync(agent);
            AttestationResult first = verifier.Verify(before, new AttestationExpectations { VmId = vm.VmId, Nonce = beforeNonce, AkCaCertificates = anchors });
            Assert.True(first.Passed, first.Failure?.ToString());
            AttestationResult runsOn = verifier.Verify(after, new AttestationExpectations
            {
                VmId = vm.VmId, Nonce = afterNonce, AkCaCertificates = anchors, PreviousQuoteClock = first.QuoteClock,
            });
            Assert.True(runsOn.Passed, runsOn.Failure?.ToString());
            Assert.Equal(snapshotId, VmSnapshots.ReadManifest(VmSnapshots.Folder(host.Snapshots, snapshotId)).SnapshotId);
            await machine.ShutdownAsync(TimeSpan.FromSeconds(60));
        }

        // A new VM from the running VM's snapshot: the copied disk boots, its own vTPM attests under its own id.
        VmFolder copy = host.Folder(Guid.NewGuid());
        VTpmIdentity copyIdentity = VmSnapshots.CreateVm(VmSnapshots.Folder(host.Snapshots, snapshotId), copy, host.HostKeyPath, () => host.Ca)!;
        (AttestationEvidence copied, byte[] copyNonce) = await BootAndAttestAsync(copy, host.HostKeyPath, "copy of a running VM");
        AttestationResult asItself = verifier.Verify(copied, new AttestationExpectations { VmId = copy.VmId, Nonce = copyNonce, AkCaCertificates = anchors });
        Assert.True(asItself.Passed, asItself.Failure?.ToString());
        Assert.Equal(copy.VmId, asItself.VmId);
        Assert.NotEqual(Assert.Single(keys, k => k.Role == "ek-rsa2048").PublicKeyPem, Assert.Single(copyIdentity.Keys, k => k.Role == "ek-rsa2048").PublicKeyPem);
    }

    private static async Task<(AttestationEvidence Evidence, byte[] Nonce)> EvidenceAsync(GuestAgentConnection agent)
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        return (await agent.RequestEvidenceAsync(nonce, TimeSpan.FromMinutes(3)), nonce);
    }

    [Fact]
    public async Task BackupDeleteRestore_TheVmBootsAndAttestsWithItsOriginalIdentity()
    {
        LifecycleHost host = LifecycleHost.Fresh();
        VmFolder vm = host.Folder(Guid.NewGuid());
        IReadOnlyList<VTpmKeyReport> keys = VmProvisioner.Create(vm, VTpmStateLockedTests.Spec(LifecycleHost.AgentImage().RawPath), host.HostKeyPath, () => host.Ca);
        string scratch = RepositoryPaths.NewTempDirectory("tl-lc-backup-boot");
        string key = BackupTests.BackupKey(scratch);
        string archives = Path.Combine(scratch, "archives");

        BackupTests.Tl(0, "backup", "create", "--vm-id", vm.VmId.ToString(), "--to", archives, "--key-file", key, "--data", host.Options.DataDirectory);
        vm.Delete();
        Assert.False(vm.Exists);
        BackupTests.Tl(0, "backup", "restore", BackupTests.Archive(archives), "--key-file", key, "--data", host.Options.DataDirectory);

        (AttestationEvidence evidence, byte[] nonce) = await BootAndAttestAsync(vm, host.HostKeyPath, "restored-from-backup");
        AttestationResult result = new AttestationVerifier(TimeProvider.System).Verify(evidence, new AttestationExpectations
        {
            VmId = vm.VmId, Nonce = nonce, AkCaCertificates = [host.Ca.RootCertificate, host.Ca.AttestationKeyCa.Certificate],
        });
        Assert.True(result.Passed, result.Failure?.ToString());
        Assert.Equal(vm.VmId, result.VmId);
        string akPem = Assert.Single(keys, k => k.Role == "ak-rsa2048").CertificatePem!;
        Assert.Equal(X509Certificate2.CreateFromPem(akPem).RawData, evidence.Tpm.AkCertificate);
    }

    [Fact]
    public async Task MovedVm_BootsOnTheTargetHostAndAttestsWithItsOriginalIdentity()
    {
        LifecycleHost from = LifecycleHost.Fresh();
        LifecycleHost to = LifecycleHost.Fresh();
        VmFolder source = from.Folder(Guid.NewGuid());
        IReadOnlyList<VTpmKeyReport> keys = VmProvisioner.Create(source, VTpmStateLockedTests.Spec(LifecycleHost.AgentImage().RawPath), from.HostKeyPath, () => from.Ca);
        VmFolder target = to.Folder(source.VmId);

        BackupTests.Tl(0, "host", "move-vm", "--vm-id", source.VmId.ToString(), "--data", from.Options.DataDirectory, "--to-data", to.Options.DataDirectory);

        Assert.False(source.Exists);
        (AttestationEvidence evidence, byte[] nonce) = await BootAndAttestAsync(target, to.HostKeyPath, "moved");
        AttestationResult result = new AttestationVerifier(TimeProvider.System).Verify(evidence, new AttestationExpectations
        {
            VmId = source.VmId, Nonce = nonce, AkCaCertificates = [from.Ca.RootCertificate, from.Ca.AttestationKeyCa.Certificate],
        });
        Assert.True(result.Passed, result.Failure?.ToString());
        string akPem = Assert.Single(keys, k => k.Role == "ak-rsa2048").CertificatePem!;
        Assert.Equal(X509Certificate2.CreateFromPem(akPem).RawData, evidence.Tpm.AkCertificate);
    }

    private static QuoteClock ReadClock(VmgsVTpm tpm)
    {
        ToolResult clock = tpm.Tool("tpm2_readclock");
        Assert.True(clock.ExitCode == 0, clock.ToString());
        ulong Field(string name) => ulong.Parse(clock.StandardOutput.Split('\n').Select(l => l.Trim())
            .First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
        return new QuoteClock(Field("clock"), (uint)Field("reset_count"), (uint)Field("restart_count"), clock.StandardOutput.Contains("safe: yes", StringComparison.Ordinal));
    }

    private static VirtualMachineOptions LaunchOptions(VmFolder folder, string hostKey)
    {
        VmgsGuestState state = VmgsGuestState.Open(folder.Vmgs, hostKey);
        return new VirtualMachineOptions
        {
            Disk = folder.Disk,
            VariableStore = state.VariableStore,
            VTpm = state.VTpm(Path.Combine(AppContext.BaseDirectory, "tl-vtpm")),
            MemoryMiB = 512,
            Uuid = state.VmUuid,
            ConsoleLog = folder.ConsoleLog,
        };
    }

    /// <summary>Boots the VM from its folder as the supervisor launches it (tl-vtpm on the VMGS), asks its guest agent for evidence, powers it off.</summary>
    private async Task<(AttestationEvidence Evidence, byte[] Nonce)> BootAndAttestAsync(VmFolder folder, string hostKey, string label)
    {
        await using VirtualMachine machine = await VirtualMachine.StartAsync(LaunchOptions(folder, hostKey));
        BootVerdict verdict = await machine.WaitForVerdictAsync(TimeSpan.FromMinutes(6));
        Assert.True(verdict.Outcome == BootOutcome.Booted, $"{label}: {verdict.Outcome}: {verdict.Summary}\n{ConsoleTail.Read(folder.ConsoleLog)}");
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        await using GuestAgentConnection agent = await GuestAgentConnection.ConnectAsync(machine.AgentSocket);
        AttestationEvidence evidence = await agent.RequestEvidenceAsync(nonce, TimeSpan.FromMinutes(3));
        VmStopReport stopped = await machine.ShutdownAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"{label}: booted in {verdict.Elapsed.TotalSeconds:0} s, stopped: {stopped.How}");
        return (evidence, nonce);
    }
}
