using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TrustedLaunch.Cli;
using TrustedLaunch.HostAgent.Lifecycle;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.Testing;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.HostAgent.Tests.Lifecycle;

/// <summary>
/// <c>tl backup create|list|restore</c> on real guest state and the real tl-vtpm: backup, delete, restore gives the VM back
/// with its identity and its NV; archives that were changed, keyed otherwise, or whose VMGS this host's key does not open are
/// refused with the reason and make no VM; a running VM and an existing VM are refused.
/// </summary>
[Collection(LifecycleHost.Collection)]
[IntegrationTest]
public sealed class BackupTests
{
    private const uint NvIndex = 0x01500017;

    [Fact]
    public void BackupDeleteRestore_TheVmComesBackWithItsVTpmIdentityAndNv()
    {
        LifecycleHost host = LifecycleHost.Fresh();
        (VmFolder vm, _) = host.NewVm();
        string scratch = RepositoryPaths.NewTempDirectory("tl-lc-backup");
        byte[] ek;
        using (VmgsVTpm tpm = VmgsVTpm.Start(vm.Vmgs, host.HostKeyPath))
        {
            tpm.Must("tpm2_nvdefine", $"0x{NvIndex:X8}", "-C", "o", "-s", "16", "-a", "ownerread|ownerwrite|authread|authwrite");
            File.WriteAllText(Path.Combine(scratch, "in"), "kept-in-backup16");
            tpm.Must("tpm2_nvwrite", $"0x{NvIndex:X8}", "-C", "o", "-i", Path.Combine(scratch, "in"));
            ek = tpm.NvRead(0x01C00002, Path.Combine(scratch, "ek1"))!;
        }

        (string disk, string vmgs) before = (Sha256(vm.Disk), Sha256(vm.Vmgs));
        string key = BackupKey(scratch);
        string archives = Path.Combine(scratch, "archives");

        Tl(0, "backup", "create", "--vm-id", vm.VmId.ToString(), "--to", archives, "--key-file", key, "--data", host.Options.DataDirectory);
        vm.Delete();
        ToolResult listed = Tl(0, "backup", "list", archives);
        Tl(0, "backup", "restore", Archive(archives), "--key-file", key, "--data", host.Options.DataDirectory);

        Assert.Contains(vm.VmId.ToString(), listed.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(before, (Sha256(vm.Disk), Sha256(vm.Vmgs)));
        using (VmgsVTpm tpm = VmgsVTpm.Start(vm.Vmgs, host.HostKeyPath))
        {
            Assert.Equal("kept-in-backup16", Encoding.ASCII.GetString(tpm.NvRead(NvIndex, Path.Combine(scratch, "nv"))!));
            Assert.Equal(ek, tpm.NvRead(0x01C00002, Path.Combine(scratch, "ek2")));
        }

        // Restoring over an existing VM is refused (exit 2): its files are not replaced.
        ToolResult again = Tl(2, "backup", "restore", Archive(archives), "--key-file", key, "--data", host.Options.DataDirectory);
        Assert.Contains("has files on this host", again.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void RestoreAsDisk_TheDetachedFolderHoldsTheBackedUpPair_AndItsFactsNameTheImageAndTheEk()
    {
        LifecycleHost host = LifecycleHost.Fresh();
        (VmFolder vm, IReadOnlyList<TrustedLaunch.ControlPlane.Hosts.VTpmKeyReport> keys) = host.NewVm();
        string scratch = RepositoryPaths.NewTempDirectory("tl-lc-backup-disk");
        (string disk, string vmgs) before = (Sha256(vm.Disk), Sha256(vm.Vmgs));
        string key = BackupKey(scratch);
        string archives = Path.Combine(scratch, "archives");
        Tl(0, "backup", "create", "--vm-id", vm.VmId.ToString(), "--to", archives, "--key-file", key, "--data", host.Options.DataDirectory);
        vm.Delete();
        var diskId = Guid.NewGuid();

        (BackupHeader header, string folder) = VmBackups.RestoreAsDisk(Archive(archives), key, host.Options.DetachedDirectory, "restored1", diskId, host.HostKeyPath);
        RestoredDiskFacts facts = RestoredDiskFacts.Read(folder, host.HostKeyPath);
        var again = Assert.Throws<VmLifecycleException>(() =>
            VmBackups.RestoreAsDisk(Archive(archives), key, host.Options.DetachedDirectory, "restored1", diskId, host.HostKeyPath));

        Assert.Equal(vm.VmId, header.VmId);
        Assert.Equal(VmFolder.DetachedFolder(host.Options.DetachedDirectory, "restored1", diskId), folder);
        Assert.False(vm.Exists); // a disk, not the VM's folder: the control plane decides whose it becomes
        Assert.Equal(before, (Sha256(Path.Combine(folder, VmFolder.DiskName)), Sha256(Path.Combine(folder, VmFolder.VmgsName))));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(host.Options.DetachedDirectory, ".restoring")));
        Assert.True(facts.GuestStateIncluded);
        Assert.True(facts.VTpm);
        Assert.Equal(Path.GetFullPath(host.Image), Path.GetFullPath(facts.BackingFile));
        using X509Certificate2 ek = X509Certificate2.CreateFromPem(keys.First(k => k.Role.StartsWith("ek", StringComparison.Ordinal)).CertificatePem!);
        Assert.Equal(ek.SerialNumber, facts.EkCertificateSerial, ignoreCase: true);
        Assert.Equal(VmLifecycleException.Exists, again.Code);
    }

    [Theory]
    [InlineData("ciphertext-byte-flipped", "fails authentication")]
    [InlineData("header-edited", "fails authentication")]
    [InlineData("truncated", "truncated")]
    [InlineData("other-backup-key", "was written with another backup key")]
    [InlineData("vmgs-of-another-host", "its guest state fails authentication")]
    public void Restore_ArchiveThatFailsItsChecks_RefusedWithTheReason_NoVmMade(string damage, string reason)
    {
        LifecycleHost host = LifecycleHost.Fresh();
        (VmFolder vm, _) = host.NewVm();
        string scratch = RepositoryPaths.NewTempDirectory("tl-lc-backup-bad");
        string key = BackupKey(scratch);
        string archives = Path.Combine(scratch, "archives");
        Tl(0, "backup", "create", "--vm-id", vm.VmId.ToString(), "--to", archives, "--key-file", key, "--data", host.Options.DataDirectory);
        vm.Delete();
        string archive = Archive(archives);
        switch (damage)
        {
            case "ciphertext-byte-flipped":
                Flip(archive, new FileInfo(archive).Length - 100);
                break;
            case "header-edited":
                // The plaintext header names the VM: point it at another VM id of the same length.
                string text = Encoding.Latin1.GetString(File.ReadAllBytes(archive));
                File.WriteAllBytes(archive, Encoding.Latin1.GetBytes(text.Replace(vm.VmId.ToString("D"), Guid.NewGuid().ToString("D"), StringComparison.Ordinal)));
                break;
            case "truncated":
                using (var stream = new FileStream(archive, FileMode.Open))
                    stream.SetLength(stream.Length - 5000);
                break;
            case "other-backup-key":
                key = BackupKey(RepositoryPaths.NewTempDirectory("tl-lc-otherkey"));
                break;
            case "vmgs-of-another-host":
                // This host's key is not the one that wrapped the VMGS (a host that lost its key, or another host).
                File.Delete(host.HostKeyPath);
                VmgsKeyEncryptionKey.Generate(host.HostKeyPath).Dispose();
                break;
        }

        ToolResult refused = Tl(1, "backup", "restore", archive, "--key-file", key, "--data", host.Options.DataDirectory);

        Assert.Contains(reason, refused.StandardError, StringComparison.Ordinal);
        Assert.False(vm.Exists, "a refused archive never becomes a VM");
        Assert.Empty(Directory.EnumerateFileSystemEntries(host.Options.VmsDirectory)); // no staging folder left either
    }

    [Fact]
    public void Create_WhileTheVTpmHoldsTheVmgs_RefusedAsRunning_NoArchive()
    {
        LifecycleHost host = LifecycleHost.Fresh();
        (VmFolder vm, _) = host.NewVm();
        string scratch = RepositoryPaths.NewTempDirectory("tl-lc-backup-run");
        string archives = Path.Combine(scratch, "archives");
        using VmgsVTpm tpm = VmgsVTpm.Start(vm.Vmgs, host.HostKeyPath);

        ToolResult refused = Tl(3, "backup", "create", "--vm-id", vm.VmId.ToString(), "--to", archives, "--key-file", BackupKey(scratch), "--data", host.Options.DataDirectory);

        Assert.Contains("Stop or deallocate it first", refused.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(archives) ? Directory.EnumerateFileSystemEntries(archives) : []);
    }

    internal static string BackupKey(string directory)
    {
        string key = Path.Combine(directory, "backup.key");
        Tl(0, "vmgs", "keygen", "--out", key);
        return key;
    }

    internal static string Archive(string directory) => Assert.Single(Directory.EnumerateFiles(directory, "*.tlbackup"));

    internal static ToolResult Tl(int expectedExit, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = Task.Run(() => TlCli.InvokeAsync(args, stdout, stderr)).GetAwaiter().GetResult();
        var result = new ToolResult(code, stdout.ToString(), stderr.ToString());
        Assert.True(code == expectedExit, $"tl {string.Join(' ', args)}: {result}");
        return result;
    }

    private static void Flip(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        int b = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(b ^ 0x01));
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
