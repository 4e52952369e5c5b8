using System.Diagnostics;
using System.Text.Json;
using TrustedLaunch.Testing;
using Xunit.Abstractions;

namespace TrustedLaunch.HostAgent.Tests.Platform;

/// <summary>
/// Snapshots through the control plane, on four real TCG boots: a Trusted Launch VM is created with <c>tl vm create</c>,
/// deallocated and snapshotted with <c>tl snapshot create</c> (its host copies the OS disk and VMGS as one pair); a new VM made
/// from the snapshot with <c>tl vm create --attach-os-disk</c> boots, attests under its own id, and has another EK than its
/// source. Restored into its source (<c>tl snapshot restore</c>), the source boots and attests with its original EK and AK
/// (a sanctioned restore). A snapshot whose VMGS was changed on the host's disk is refused with Azure's "vTPM state is locked" error, and
/// nothing of the VM is made (no folder, no process).
/// </summary>
[Collection(PlatformBoots.Name)]
[IntegrationTest]
public sealed class SnapshotPlatformTests(ITestOutputHelper output)
{
    private const string Group = "snapshots";

    [Fact]
    public void Snapshot_NewVmFromIt_BootsWithAnotherEk_RestoreKeepsTheEk_AndALockedVTpmSnapshotMakesNothing()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-platform-snap");
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        try
        {
            home.StartWithGroup(Group);

            // 1. The source: a Trusted Launch VM, booted, then deallocated (its pair cannot change while it is off).
            ToolResult source = home.Tl("vm", "create", "-g", Group, "-n", "src", "--image", "debian-12", "--size", "Standard_B1s", "--os-disk-delete-option", "Delete");
            Assert.True(source.ExitCode == 0, source.ToString());
            Step("source VM running");
            JsonElement sourceIdentity = home.TlJson("vm", "identity", "-g", Group, "-n", "src");
            Assert.Equal(0, home.Tl("vm", "deallocate", "-g", Group, "-n", "src").ExitCode);

            // 2. The snapshot, through the API: Succeeded, Trusted Launch, with the guest state, on the VM's host.
            JsonElement snapshot = home.TlJson("snapshot", "create", "-g", Group, "-n", "snap1", "--source", "src", "-o", "json");
            JsonElement properties = snapshot.GetProperty("properties");
            Assert.Equal("Succeeded", properties.GetProperty("provisioningState").GetString());
            Assert.Equal("TrustedLaunch", properties.GetProperty("securityProfile").GetProperty("securityType").GetString());
            Assert.True(properties.GetProperty("trustedLaunchSnapshot").GetProperty("guestStateIncluded").GetBoolean());
            var snapshotId = Guid.Parse(properties.GetProperty("uniqueId").GetString()!);
            string folder = Path.Combine(home.Path, "snapshots", snapshotId.ToString("N"));
            Assert.True(File.Exists(Path.Combine(folder, "vm.vmgs")) && File.Exists(Path.Combine(folder, "disk.qcow2")), $"no pair in {folder}");
            Assert.Equal("snap1", Assert.Single(home.TlJson("snapshot", "list", "-g", Group, "-o", "json").EnumerateArray()).GetProperty("name").GetString());
            Step("snapshot taken");

            // 3. A new VM from the snapshot: boots, attests under its own id, another EK and AK than the source's.
            ToolResult copy = home.Tl("vm", "create", "-g", Group, "-n", "copy", "--attach-os-disk", "snap1", "--size", "Standard_B1s",
                "--os-disk-delete-option", "Delete");
            Assert.True(copy.ExitCode == 0, copy.ToString());
            PlatformHome.WaitUntil(() => home.InstanceView(Group, "copy") is { Power: "running", Verdict: "booted" }, TimeSpan.FromMinutes(6),
                $"the copy did not boot: {home.InstanceView(Group, "copy")}\n{home.Logs()}");
            Step("copy booted");
            ToolResult attest = home.Tl("vm", "attest", "-g", Group, "-n", "copy");
            Assert.True(attest.ExitCode == 0, attest.ToString());
            JsonElement verdict = JsonDocument.Parse(attest.StandardOutput).RootElement;
            Assert.Equal("pass", verdict.GetProperty("verdict").GetString());
            JsonElement copyVm = home.TlJson("vm", "show", "-g", Group, "-n", "copy");
            string copyVmId = copyVm.GetProperty("properties").GetProperty("vmId").GetString()!;
            Assert.NotEqual(properties.GetProperty("trustedLaunchSnapshot").GetProperty("sourceVmId").GetString(), copyVmId);
            Assert.Equal(copyVmId, verdict.GetProperty("claims").GetProperty("x-ms-azurevm-vmid").GetString(), ignoreCase: true);
            JsonElement copyIdentity = home.TlJson("vm", "identity", "-g", Group, "-n", "copy");
            Assert.NotEqual(Key(sourceIdentity, "encryptionKey"), Key(copyIdentity, "encryptionKey"));
            Assert.NotEqual(Key(sourceIdentity, "signingKey"), Key(copyIdentity, "signingKey"));
            Step("copy attested with its own EK and AK");

            // 4. Restore into the source: it runs on (its vTPM moves past the snapshot), is deallocated, restored, and boots and
            // attests with its original EK and AK (a sanctioned restore lets the rolled-back vTPM's quotes through).
            Assert.Equal(0, home.Tl("vm", "start", "-g", Group, "-n", "src").ExitCode);
            PlatformHome.WaitUntil(() => home.InstanceView(Group, "src") is { Power: "running", Verdict: "booted" }, TimeSpan.FromMinutes(6),
                $"the source did not boot again: {home.InstanceView(Group, "src")}\n{home.Logs()}");
            Assert.Equal(0, home.Tl("vm", "attest", "-g", Group, "-n", "src").ExitCode);
            Assert.Equal(0, home.Tl("vm", "deallocate", "-g", Group, "-n", "src").ExitCode);
            ToolResult restored = home.Tl("snapshot", "restore", "-g", Group, "-n", "snap1");
            Assert.True(restored.ExitCode == 0, restored.ToString());
            Assert.Equal(0, home.Tl("vm", "start", "-g", Group, "-n", "src").ExitCode);
            PlatformHome.WaitUntil(() => home.InstanceView(Group, "src") is { Power: "running", Verdict: "booted" }, TimeSpan.FromMinutes(6),
                $"the restored source did not boot: {home.InstanceView(Group, "src")}\n{home.Logs()}");
            ToolResult restoredAttest = home.Tl("vm", "attest", "-g", Group, "-n", "src");
            Assert.True(restoredAttest.ExitCode == 0, restoredAttest.ToString());
            Assert.Equal("pass", JsonDocument.Parse(restoredAttest.StandardOutput).RootElement.GetProperty("verdict").GetString());
            JsonElement restoredIdentity = home.TlJson("vm", "identity", "-g", Group, "-n", "src");
            Assert.Equal(Key(sourceIdentity, "encryptionKey"), Key(restoredIdentity, "encryptionKey"));
            Assert.Equal(Key(sourceIdentity, "signingKey"), Key(restoredIdentity, "signingKey"));
            Step("restored into the source: booted and attested with its original EK and AK");
            Assert.Equal(0, home.Tl("vm", "deallocate", "-g", Group, "-n", "src").ExitCode); // room on the one host for the next VM

            // 5. A snapshot whose VMGS was changed on the host: Azure's "vTPM state is locked", and no VM files or processes.
            byte[] vmgs = File.ReadAllBytes(Path.Combine(folder, "vm.vmgs"));
            vmgs[vmgs.Length / 2] ^= 0x5A;
            File.WriteAllBytes(Path.Combine(folder, "vm.vmgs"), vmgs);
            ToolResult locked = home.Tl("vm", "create", "-g", Group, "-n", "locked", "--attach-os-disk", "snap1", "--size", "Standard_B1s");
            Assert.True(locked.ExitCode == 1, locked.ToString());
            Assert.Contains("(VTpmStateLocked) Virtual machine locked failed to create from the selected snapshot because the virtual Trusted Platform Module (vTPM) state is locked. " +
                "To proceed with the VM creation, please select a different snapshot without a locked vTPM state.", locked.StandardError, StringComparison.Ordinal);
            var lockedId = Guid.Parse(home.TlJson("vm", "show", "-g", Group, "-n", "locked").GetProperty("properties").GetProperty("vmId").GetString()!);
            Assert.False(Directory.Exists(Path.Combine(home.Path, "vms", lockedId.ToString("D"))), "no VM folder for a locked snapshot");
            Assert.Empty(PlatformHome.ProcessesOf(lockedId));
            Step("locked snapshot refused, nothing made");

            // 6. Deleting the snapshot removes its files on the host.
            Assert.Equal(0, home.Tl("snapshot", "delete", "-g", Group, "-n", "snap1").ExitCode);
            Assert.False(Directory.Exists(folder), "the snapshot's files are gone");
            Assert.Equal(2, home.Tl("snapshot", "show", "-g", Group, "-n", "snap1").ExitCode);
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    private static string Key(JsonElement identity, string which) => identity.GetProperty(which).GetProperty("ekPub").GetString()!;
}
