using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using TrustedLaunch.HostAgent.Tests.Lifecycle;
using TrustedLaunch.Testing;
using Xunit.Abstractions;

namespace TrustedLaunch.HostAgent.Tests.Platform;

/// <summary>
/// Backup → delete the VM → restore → it boots and attests with its original identity, through the control plane on two real TCG
/// boots: a Trusted Launch VM made with <c>tl vm create</c> runs and its first attestation passes; deallocated, <c>tl backup create</c>
/// archives its pair; a restore as a disk while the VM lives is refused (<c>VTpmIdentityInUse</c>, nothing kept); the VM is deleted
/// with its disk (<c>deleteOption: Delete</c>); <c>tl backup restore --disk</c> lands an Unattached disk (<c>createOption: Restore</c>)
/// and <c>tl vm create --attach-os-disk</c> boots it: its attestation passes under its new vmId, with the original EK (certificate,
/// serial and public key as the API reports them) and the original AK key certified again for the new vmId.
/// </summary>
[Collection(PlatformBoots.Name)]
[IntegrationTest]
public sealed class BackupRestorePlatformTests(ITestOutputHelper output)
{
    private const string Group = "backups";

    [Fact]
    public void BackupDeleteRestore_TheRestoredDiskBootsAndAttestsWithTheOriginalEk()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-platform-backup");
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        try
        {
            home.StartWithGroup(Group, "trustedLaunch.registeringHosts=*");

            // 1. The original: a Trusted Launch VM whose disk goes with it; it runs and its first attestation passes.
            ToolResult created = home.Tl("vm", "create", "-g", Group, "-n", "orig", "--image", "debian-12", "--size", "Standard_B1s", "--os-disk-delete-option", "Delete");
            Assert.True(created.ExitCode == 0, created.ToString());
            PlatformHome.WaitUntil(() => home.InstanceView(Group, "orig") is { Power: "running", Verdict: "booted", Attestation: "pass" }, TimeSpan.FromMinutes(6),
                $"the original VM did not boot and attest: {home.InstanceView(Group, "orig")}\n{home.Logs()}");
            var origVmId = Guid.Parse(home.TlJson("vm", "show", "-g", Group, "-n", "orig").GetProperty("properties").GetProperty("vmId").GetString()!);
            JsonElement origIdentity = home.TlJson("vm", "identity", "-g", Group, "-n", "orig");
            Step("original VM running, first attestation passed");

            // 2. The backup, of the deallocated VM (the host's files: tl backup create on the host's TL_HOME).
            Assert.Equal(0, home.Tl("vm", "deallocate", "-g", Group, "-n", "orig").ExitCode);
            string scratch = RepositoryPaths.NewTempDirectory("tl-platform-backup");
            string key = BackupTests.BackupKey(scratch);
            string archives = Path.Combine(scratch, "archives");
            BackupTests.Tl(0, "backup", "create", "--vm-id", origVmId.ToString(), "--to", archives, "--key-file", key, "--data", home.Path);
            string archive = BackupTests.Archive(archives);
            Step("backup written");

            // 3. While the original lives, its vTPM identity may not come back beside it: refused, and the restored files removed again.
            ToolResult twin = home.Tl("backup", "restore", archive, "--key-file", key, "--disk", "twin", "-g", Group, "--data", home.Path);
            Assert.True(twin.ExitCode == 2, twin.ToString());
            Assert.Contains("VTpmIdentityInUse", twin.StandardError, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateDirectories(Path.Combine(home.Path, "detached"), "twin-*"));

            // 4. Delete the VM with its disk: no VM folder, no process.
            Assert.Equal(0, home.Tl("vm", "delete", "-g", Group, "-n", "orig", "--yes").ExitCode);
            Assert.False(Directory.Exists(Path.Combine(home.Path, "vms", origVmId.ToString("D"))), "the deleted VM's folder is gone");
            Assert.Empty(PlatformHome.ProcessesOf(origVmId));
            Step("original VM deleted with its disk");

            // 5. Restore as a disk: an Unattached disk resource on the host, createOption Restore, its files in TL_HOME/detached.
            ToolResult restored = home.Tl("backup", "restore", archive, "--key-file", key, "--disk", "restored", "-g", Group, "--data", home.Path);
            Assert.True(restored.ExitCode == 0, restored.ToString());
            JsonElement disk = home.TlJson("disk", "show", "-g", Group, "-n", "restored").GetProperty("properties");
            Assert.Equal("Unattached", disk.GetProperty("diskState").GetString());
            Assert.Equal("Restore", disk.GetProperty("creationData").GetProperty("createOption").GetString());
            Step("backup restored as an Unattached disk");

            // 6. A VM from the restored disk: boots, its first attestation passes, and an attestation on request passes under its new vmId.
            ToolResult back = home.Tl("vm", "create", "-g", Group, "-n", "back", "--attach-os-disk", "restored", "--size", "Standard_B1s", "--os-disk-delete-option", "Delete");
            Assert.True(back.ExitCode == 0, back.ToString());
            PlatformHome.WaitUntil(() => home.InstanceView(Group, "back") is { Power: "running", Verdict: "booted", Attestation: "pass" }, TimeSpan.FromMinutes(6),
                $"the restored VM did not boot and attest: {home.InstanceView(Group, "back")}\n{home.Logs()}");
            var backVmId = Guid.Parse(home.TlJson("vm", "show", "-g", Group, "-n", "back").GetProperty("properties").GetProperty("vmId").GetString()!);
            Assert.NotEqual(origVmId, backVmId);
            ToolResult attest = home.Tl("vm", "attest", "-g", Group, "-n", "back");
            Assert.True(attest.ExitCode == 0, attest.ToString());
            JsonElement verdict = JsonDocument.Parse(attest.StandardOutput).RootElement;
            Assert.Equal("pass", verdict.GetProperty("verdict").GetString());
            Assert.Equal(backVmId.ToString(), verdict.GetProperty("claims").GetProperty("x-ms-azurevm-vmid").GetString(), ignoreCase: true);
            Step("restored VM booted and attested");

            // 7. The identity is the original's: the same EK certificate (serial and public key), the same AK key, certified for the new vmId.
            JsonElement backIdentity = home.TlJson("vm", "identity", "-g", Group, "-n", "back");
            using X509Certificate2 origEk = Certificate(origIdentity, "encryptionKey");
            using X509Certificate2 backEk = Certificate(backIdentity, "encryptionKey");
            Assert.Equal(origEk.SerialNumber, backEk.SerialNumber);
            Assert.Equal(origEk.RawData, backEk.RawData);
            Assert.Equal(Text(origIdentity, "encryptionKey", "ekPub"), Text(backIdentity, "encryptionKey", "ekPub"));
            using X509Certificate2 origAk = Certificate(origIdentity, "signingKey");
            using X509Certificate2 backAk = Certificate(backIdentity, "signingKey");
            Assert.Equal(origAk.PublicKey.ExportSubjectPublicKeyInfo(), backAk.PublicKey.ExportSubjectPublicKeyInfo());
            Assert.Equal(backVmId, Guid.Parse(backAk.GetNameInfo(X509NameType.SimpleName, forIssuer: false)));
            Step("the original EK and AK key, the AK certified for the new vmId");

            // 8. Delete it with its disk: nothing left.
            Assert.Equal(0, home.Tl("vm", "delete", "-g", Group, "-n", "back", "--yes").ExitCode);
            Assert.False(Directory.Exists(Path.Combine(home.Path, "vms", backVmId.ToString("D"))), "the VM folder is gone");
            Assert.Empty(PlatformHome.ProcessesOf(backVmId));
            Assert.Equal(2, home.Tl("disk", "show", "-g", Group, "-n", "restored").ExitCode);
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    private static string Text(JsonElement identity, string key, string what) => identity.GetProperty(key).GetProperty(what).GetString()!;

    private static X509Certificate2 Certificate(JsonElement identity, string key) => X509Certificate2.CreateFromPem(Text(identity, key, "ekCert"));
}
