using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.HostAgent.Lifecycle;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.Testing;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.HostAgent.Tests.Lifecycle;

/// <summary>
/// Snapshot, restore and copy of a VM's OS disk and VMGS as one pair, on real guest state (the provisioner's, libtpms) and the
/// real tl-vtpm driven by tpm2-tools: an NV index written before a snapshot and overwritten after it is back after the restore,
/// with the same EK; a VM made from the snapshot has the source's UEFI variables but its own, new vTPM; damaged snapshots,
/// another VM's snapshot and a running vTPM are refused with nothing replaced; a restore cut short leaves one whole pair.
/// </summary>
[Collection(LifecycleHost.Collection)]
[IntegrationTest]
public sealed class VmSnapshotsTests
{
    private const uint NvIndex = 0x01500016;
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void SnapshotChangeRestore_NvIndexWrittenBeforeTheSnapshotIsBack_SameEk()
    {
        LifecycleHost host = LifecycleHost.Fresh();
        (VmFolder vm, _) = host.NewVm();
        string scratch = RepositoryPaths.NewTempDirectory("tl-lc-nv");
        byte[] ekBefore;
        using (VmgsVTpm tpm = VmgsVTpm.Start(vm.Vmgs, host.HostKeyPath))
        {
            tpm.Must("tpm2_nvdefine", $"0x{NvIndex:X8}", "-C", "o", "-s", "16", "-a", "ownerread|ownerwrite|authread|authwrite");
            Write(tpm, scratch, "sealed-before-16");
            ekBefore = tpm.NvRead(0x01C00002, Path.Combine(scratch, "ek1"))!;
        }

        SnapshotManifest taken = VmSnapshots.Take(vm, host.Snapshots, Guid.NewGuid(), host.HostKeyPath, T0);
        using (VmgsVTpm tpm = VmgsVTpm.Start(vm.Vmgs, host.HostKeyPath))
        {
            Write(tpm, scratch, "changed-after-16");
            Assert.Equal("changed-after-16", Encoding.ASCII.GetString(tpm.NvRead(NvIndex, Path.Combine(scratch, "nv2"))!));
        }

        SnapshotManifest restored = VmSnapshots.Restore(vm, VmSnapshots.Folder(host.Snapshots, taken.SnapshotId), host.HostKeyPath);

        Assert.Equal(taken, restored);
        Assert.Equal(taken.Vmgs!.Sha256, Sha256(vm.Vmgs));
        Assert.Equal(taken.Disk.Sha256, Sha256(vm.Disk));
        using (VmgsVTpm tpm = VmgsVTpm.Start(vm.Vmgs, host.HostKeyPath))
        {
            Assert.Equal("sealed-before-16", Encoding.ASCII.GetString(tpm.NvRead(NvIndex, Path.Combine(scratch, "nv3"))!));
            Assert.Equal(ekBefore, tpm.NvRead(0x01C00002, Path.Combine(scratch, "ek2")));
        }

        Assert.False(Directory.Exists(Path.Combine(vm.Path, ".restoring")));
        Assert.Single(VmSnapshots.List(host.Snapshots));
    }

    /// <summary>
    /// The "snapshot → change → restore → the old PCR-sealed secret unseals again", on the vTPM the guest's
    /// driver talks to (tl-vtpm over the VMGS): a data object sealed under a PolicyPCR on PCR 23 and made persistent,
    /// replaced after the snapshot, is back after the restore and unseals only once PCR 23 holds the sealed-to value.
    /// Each start is a TPM2_Startup(CLEAR), as a boot: PCRs begin at zero.
    /// </summary>
    [Fact]
    public void SnapshotChangeRestore_PcrSealedSecretUnsealsAgain_OnlyUnderItsPcrPolicy()
    {
        LifecycleHost host = LifecycleHost.Fresh();
        (VmFolder vm, _) = host.NewVm();
        string scratch = RepositoryPaths.NewTempDirectory("tl-lc-seal");
        using (VmgsVTpm tpm = VmgsVTpm.Start(vm.Vmgs, host.HostKeyPath))
            Seal(tpm, scratch, "sealed-before-16");

        SnapshotManifest taken = VmSnapshots.Take(vm, host.Snapshots, Guid.NewGuid(), host.HostKeyPath, T0);
        using (VmgsVTpm tpm = VmgsVTpm.Start(vm.Vmgs, host.HostKeyPath))
        {
            tpm.Must("tpm2_evictcontrol", "-C", "o", "-c", SealedHandle);
            Seal(tpm, scratch, "changed-after-16");
            Assert.Equal("changed-after-16", Unseal(tpm));
        }

        VmSnapshots.Restore(vm, VmSnapshots.Folder(host.Snapshots, taken.SnapshotId), host.HostKeyPath);

        using (VmgsVTpm tpm = VmgsVTpm.Start(vm.Vmgs, host.HostKeyPath))
        {
            Assert.NotEqual(0, tpm.Tool("tpm2_unseal", "-c", SealedHandle, "-p", "pcr:sha256:23").ExitCode); // PCR 23 still zero
            tpm.Must("tpm2_pcrextend", $"23:sha256={SealedPcrDigest}");
            Assert.Equal("sealed-before-16", Unseal(tpm));
        }
    }

    [Fact]
    public void CreateVm_FromSnapshot_NewVmIdNewEkAndAkUefiVariablesCopied_SourceNvNotShared()
    {
        LifecycleHost host = LifecycleHost.Fresh();
        (VmFolder source, IReadOnlyList<VTpmKeyReport> sourceKeys) = host.NewVm();
        string scratch = RepositoryPaths.NewTempDirectory("tl-lc-clone");
        using (VmgsVTpm tpm = VmgsVTpm.Start(source.Vmgs, host.HostKeyPath))
        {
            tpm.Must("tpm2_nvdefine", $"0x{NvIndex:X8}", "-C", "o", "-s", "16", "-a", "ownerread|ownerwrite|authread|authwrite");
            Write(tpm, scratch, "source-secret-16");
        }

        SnapshotManifest taken = VmSnapshots.Take(source, host.Snapshots, Guid.NewGuid(), host.HostKeyPath, T0);
        VmFolder clone = host.Folder(Guid.NewGuid());
        VTpmIdentity identity = VmSnapshots.CreateVm(VmSnapshots.Folder(host.Snapshots, taken.SnapshotId), clone, host.HostKeyPath, () => host.Ca)!;

        // New identity: other EK and AK keys, certified for the new VM id.
        foreach (VTpmKeyIdentity key in identity.Keys)
        {
            VTpmKeyReport old = Assert.Single(sourceKeys, k => k.Role == key.Role);
            Assert.NotEqual(old.PublicKeyPem, key.PublicKeyPem);
            using X509Certificate2 certificate = X509Certificate2.CreateFromPem(key.CertificatePem);
            Assert.Contains(clone.VmId.ToString("D"), certificate.Subject, StringComparison.OrdinalIgnoreCase);
        }

        // UEFI variables copied byte for byte; the identity entry names the new VM.
        Assert.Equal(Entry(source.Vmgs, host.HostKeyPath, VmgsEntryId.UefiNvram), Entry(clone.Vmgs, host.HostKeyPath, VmgsEntryId.UefiNvram));
        Assert.Contains(clone.VmId.ToString("D"), Encoding.UTF8.GetString(Entry(clone.Vmgs, host.HostKeyPath, VmgsEntryId.VmIdentity)), StringComparison.Ordinal);
        Assert.Equal(taken.Disk.Sha256, Sha256(clone.Disk));
        Assert.False(File.Exists(Path.Combine(clone.Path, ".source.vmgs")));
        using (VmgsVTpm tpm = VmgsVTpm.Start(clone.Vmgs, host.HostKeyPath))
            Assert.Null(tpm.NvRead(NvIndex, Path.Combine(scratch, "clone-nv"))); // a fresh TPM: the source's NV is not there
    }

    [Fact]
    public void Snapshot_WhileTlVtpmHoldsTheVmgs_RefusedAsRunning_NoSnapshotLeft()
    {
        LifecycleHost host = LifecycleHost.Fresh();
        (VmFolder vm, _) = host.NewVm();
        using VmgsVTpm tpm = VmgsVTpm.Start(vm.Vmgs, host.HostKeyPath);

        var refused = Assert.Throws<VmLifecycleException>(() => VmSnapshots.Take(vm, host.Snapshots, Guid.NewGuid(), host.HostKeyPath, T0));

        Assert.Equal("OperationNotAllowed", refused.Code);
        Assert.Contains("Stop or deallocate it first", refused.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(host.Snapshots));
    }

    [Theory]
    [InlineData("vmgs-byte-flipped", "is not the file the snapshot recorded")]
    [InlineData("vmgs-byte-flipped-and-manifest-rehashed", "fails authentication")]
    [InlineData("disk-byte-flipped", "is not the file the snapshot recorded")]
    [InlineData("another-vms-snapshot", "is restored into its own VM only")]
    public void Restore_SnapshotThatFailsItsChecks_RefusedWithTheReason_NothingReplaced(string damage, string reason)
    {
        LifecycleHost host = LifecycleHost.Fresh();
        (VmFolder vm, _) = host.NewVm();
        VmFolder snapshotOf = vm;
        if (damage == "another-vms-snapshot")
            (snapshotOf, _) = host.NewVm();
        SnapshotManifest taken = VmSnapshots.Take(snapshotOf, host.Snapshots, Guid.NewGuid(), host.HostKeyPath, T0);
        string folder = VmSnapshots.Folder(host.Snapshots, taken.SnapshotId);
        switch (damage)
        {
            case "vmgs-byte-flipped":
                Flip(Path.Combine(folder, VmFolder.VmgsName), 9000);
                break;
            case "vmgs-byte-flipped-and-manifest-rehashed":
                // Someone who can write the snapshot folder fixes the manifest too: the VMGS's own authentication still refuses it.
                Flip(Path.Combine(folder, VmFolder.VmgsName), 9000);
                File.WriteAllText(Path.Combine(folder, VmSnapshots.ManifestName), File.ReadAllText(Path.Combine(folder, VmSnapshots.ManifestName))
                    .Replace(taken.Vmgs!.Sha256, Sha256(Path.Combine(folder, VmFolder.VmgsName)), StringComparison.Ordinal));
                break;
            case "disk-byte-flipped":
                Flip(Path.Combine(folder, VmFolder.DiskName), 100);
                break;
        }

        (string disk, string vmgs) before = (Sha256(vm.Disk), Sha256(vm.Vmgs));

        var refused = Assert.Throws<VmLifecycleException>(() => VmSnapshots.Restore(vm, folder, host.HostKeyPath));

        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
        Assert.Equal(before, (Sha256(vm.Disk), Sha256(vm.Vmgs)));
        Assert.False(Directory.Exists(Path.Combine(vm.Path, ".restoring")));
    }

    [Theory]
    [InlineData("vmgs-byte-flipped", "is not the file the snapshot recorded")]
    [InlineData("vmgs-byte-flipped-and-manifest-rehashed", "fails authentication")]
    public void CreateVm_FromASnapshotWhoseVmgsDoesNotOpen_VTpmStateLocked_NothingMade(string damage, string reason)
    {
        LifecycleHost host = LifecycleHost.Fresh();
        (VmFolder source, _) = host.NewVm();
        SnapshotManifest taken = VmSnapshots.Take(source, host.Snapshots, Guid.NewGuid(), host.HostKeyPath, T0);
        string folder = VmSnapshots.Folder(host.Snapshots, taken.SnapshotId);
        Flip(Path.Combine(folder, VmFolder.VmgsName), 9000);
        if (damage == "vmgs-byte-flipped-and-manifest-rehashed")
        {
            File.WriteAllText(Path.Combine(folder, VmSnapshots.ManifestName), File.ReadAllText(Path.Combine(folder, VmSnapshots.ManifestName))
                .Replace(taken.Vmgs!.Sha256, Sha256(Path.Combine(folder, VmFolder.VmgsName)), StringComparison.Ordinal));
        }

        string snapshotBefore = Sha256(Path.Combine(folder, VmFolder.VmgsName));
        VmFolder clone = host.Folder(Guid.NewGuid());

        var refused = Assert.Throws<VmLifecycleException>(() => VmSnapshots.CreateVm(folder, clone, host.HostKeyPath, () => host.Ca));

        Assert.Equal(VmLifecycleException.VTpmStateLocked, refused.Code);
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
        Assert.False(clone.Exists);
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(clone.Path)!), e => e.Contains(clone.VmId.ToString("N"), StringComparison.Ordinal));
        Assert.Equal(snapshotBefore, Sha256(Path.Combine(folder, VmFolder.VmgsName)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Restore_CutShortBeforeOrAfterItsCommitPoint_LeavesOneWholePair(bool committed)
    {
        LifecycleHost host = LifecycleHost.Fresh();
        (VmFolder vm, _) = host.NewVm();
        SnapshotManifest taken = VmSnapshots.Take(vm, host.Snapshots, Guid.NewGuid(), host.HostKeyPath, T0);
        using (VmgsVTpm tpm = VmgsVTpm.Start(vm.Vmgs, host.HostKeyPath))
            tpm.Must("tpm2_nvdefine", $"0x{NvIndex:X8}", "-C", "o", "-s", "16", "-a", "ownerread|ownerwrite|authread|authwrite"); // the VMGS moves on
        (string disk, string vmgs) current = (Sha256(vm.Disk), Sha256(vm.Vmgs));
        Assert.NotEqual(taken.Vmgs!.Sha256, current.vmgs);

        // What a kill leaves: the pair staged, with the commit marker or without; the disk already moved in the committed case.
        string staging = Path.Combine(vm.Path, ".restoring");
        Directory.CreateDirectory(staging);
        string folder = VmSnapshots.Folder(host.Snapshots, taken.SnapshotId);
        File.Copy(Path.Combine(folder, VmFolder.VmgsName), Path.Combine(staging, VmFolder.VmgsName));
        if (committed)
        {
            File.WriteAllBytes(Path.Combine(staging, "ready"), []);
            File.Copy(Path.Combine(folder, VmFolder.DiskName), vm.Disk, overwrite: true);
        }
        else
        {
            File.Copy(Path.Combine(folder, VmFolder.DiskName), Path.Combine(staging, VmFolder.DiskName));
        }

        VmSnapshots.CompleteRestore(vm);

        Assert.Equal(committed ? (taken.Disk.Sha256, taken.Vmgs.Sha256) : current, (Sha256(vm.Disk), Sha256(vm.Vmgs)));
        Assert.False(Directory.Exists(staging));
    }

    private const string SealedHandle = "0x81010016";
    private const string SealedPcrDigest = "9d4a1c3f0b2e8f6a7c5d3e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b";

    /// <summary>Seals <paramref name="text"/> under PolicyPCR(PCR 23 = zero extended once by <see cref="SealedPcrDigest"/>) at <see cref="SealedHandle"/>.</summary>
    private static void Seal(VmgsVTpm tpm, string scratch, string text)
    {
        string d = Path.Combine(scratch, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        File.WriteAllText(Path.Combine(d, "secret"), text);
        tpm.Must("tpm2_pcrextend", $"23:sha256={SealedPcrDigest}");
        tpm.Must("tpm2_createpolicy", "--policy-pcr", "-l", "sha256:23", "-L", Path.Combine(d, "policy"));
        // No resource manager between tpm2-tools and the vTPM: each tool's transient objects stay loaded until flushed.
        tpm.Must("tpm2_createprimary", "-C", "o", "-c", Path.Combine(d, "primary.ctx"));
        tpm.Must("tpm2_flushcontext", "-t");
        tpm.Must("tpm2_create", "-C", Path.Combine(d, "primary.ctx"), "-L", Path.Combine(d, "policy"), "-i", Path.Combine(d, "secret"),
            "-u", Path.Combine(d, "seal.pub"), "-r", Path.Combine(d, "seal.priv"));
        tpm.Must("tpm2_flushcontext", "-t");
        tpm.Must("tpm2_load", "-C", Path.Combine(d, "primary.ctx"), "-u", Path.Combine(d, "seal.pub"), "-r", Path.Combine(d, "seal.priv"),
            "-c", Path.Combine(d, "seal.ctx"));
        tpm.Must("tpm2_evictcontrol", "-C", "o", "-c", Path.Combine(d, "seal.ctx"), SealedHandle);
        tpm.Must("tpm2_flushcontext", "-t");
    }

    private static string Unseal(VmgsVTpm tpm)
    {
        ToolResult result = tpm.Tool("tpm2_unseal", "-c", SealedHandle, "-p", "pcr:sha256:23");
        Assert.True(result.ExitCode == 0, $"tpm2_unseal: {result}");
        return result.StandardOutput;
    }

    private static void Write(VmgsVTpm tpm, string scratch, string text)
    {
        string file = Path.Combine(scratch, "in-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(file, text);
        tpm.Must("tpm2_nvwrite", $"0x{NvIndex:X8}", "-C", "o", "-i", file);
    }

    private static byte[] Entry(string vmgs, string kekPath, VmgsEntryId id)
    {
        using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Load(kekPath);
        using VmgsFile file = VmgsFile.Open(vmgs, kek, writable: false);
        return file.ReadEntry(id)!;
    }

    private static void Flip(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = Math.Min(offset, stream.Length - 1);
        int b = stream.ReadByte();
        stream.Position--;
        stream.WriteByte((byte)(b ^ 0x01));
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
