using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using TrustedLaunch.Testing;
using Xunit.Abstractions;

namespace TrustedLaunch.HostAgent.Tests.Platform;

/// <summary>
/// A detached disk through the control plane, on two real TCG boots: a Trusted Launch VM created with <c>deleteOption: Detach</c>
/// runs and attests; deleting it leaves its disk <c>Unattached</c> with its OS disk and VMGS on the host and no process; a new VM
/// made from that disk (<c>tl vm create --attach-os-disk DISK</c>, the host's <c>VmProvisioner.AttachDetached</c>) boots and
/// attests under its own new vmId with the same EK as before and an AK certificate re-issued for the new vmId (the API's identity and
/// what the vTPM serves from its NV indices, read with tpm2_nvread once deallocated); deleting it with <c>deleteOption: Delete</c>
/// removes the files.
/// </summary>
[Collection(PlatformBoots.Name)]
[IntegrationTest]
public sealed class DetachedDiskPlatformTests(ITestOutputHelper output)
{
    private const string Group = "disks";

    [Fact]
    public void DetachedDisk_ANewVmAttachingIt_RunsAndAttestsWithTheSameEk_AndAnAkCertificateForItsOwnId()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-platform-disks");
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        try
        {
            home.StartWithGroup(Group);

            // 1. The first VM: Trusted Launch, its OS disk detached when it is deleted; it runs and its first attestation passes.
            ToolResult first = home.Tl("vm", "create", "-g", Group, "-n", "first", "--image", "debian-12", "--size", "Standard_B1s", "--os-disk-delete-option", "Detach");
            Assert.True(first.ExitCode == 0, first.ToString());
            PlatformHome.WaitUntil(() => home.InstanceView(Group, "first") is { Power: "running", Verdict: "booted", Attestation: "pass" }, TimeSpan.FromMinutes(6),
                $"the first VM did not boot and attest: {home.InstanceView(Group, "first")}\n{home.Logs()}");
            Step("first VM running, first attestation passed");
            JsonElement firstVm = home.TlJson("vm", "show", "-g", Group, "-n", "first");
            var firstVmId = Guid.Parse(firstVm.GetProperty("properties").GetProperty("vmId").GetString()!);
            string disk = firstVm.GetProperty("properties").GetProperty("storageProfile").GetProperty("osDisk").GetProperty("name").GetString()!;
            JsonElement firstIdentity = home.TlJson("vm", "identity", "-g", Group, "-n", "first");
            Assert.Equal(firstVmId, AkSubjectVmId(firstIdentity));

            // 2. Delete it: the disk stays, Unattached, its files on the host; no QEMU or tl-vtpm of the VM is left.
            Assert.Equal(0, home.Tl("vm", "delete", "-g", Group, "-n", "first", "--yes").ExitCode);
            JsonElement detached = home.TlJson("disk", "show", "-g", Group, "-n", disk);
            Assert.Equal("Unattached", detached.GetProperty("properties").GetProperty("diskState").GetString());
            var diskId = Guid.Parse(detached.GetProperty("properties").GetProperty("uniqueId").GetString()!);
            string folder = Path.Combine(home.Path, "detached", $"{disk}-{diskId:N}");
            Assert.True(File.Exists(Path.Combine(folder, "vm.vmgs")) && File.Exists(Path.Combine(folder, "disk.qcow2")), $"no OS disk and VMGS in {folder}");
            Assert.False(Directory.Exists(Path.Combine(home.Path, "vms", firstVmId.ToString("D"))), "the deleted VM's folder is gone");
            Assert.Empty(PlatformHome.ProcessesOf(firstVmId));
            Step("first VM deleted, disk Unattached on the host");

            // 3. A new VM attaching the disk: it runs and attests under its own vmId, with the same EK and an AK certificate for that id.
            ToolResult second = home.Tl("vm", "create", "-g", Group, "-n", "second", "--attach-os-disk", disk, "--size", "Standard_B1s", "--os-disk-delete-option", "Delete");
            Assert.True(second.ExitCode == 0, second.ToString());
            PlatformHome.WaitUntil(() => home.InstanceView(Group, "second") is { Power: "running", Verdict: "booted", Attestation: "pass" }, TimeSpan.FromMinutes(6),
                $"the second VM did not boot and attest: {home.InstanceView(Group, "second")}\n{home.Logs()}");
            Step("second VM running, first attestation passed");
            var secondVmId = Guid.Parse(home.TlJson("vm", "show", "-g", Group, "-n", "second").GetProperty("properties").GetProperty("vmId").GetString()!);
            Assert.NotEqual(firstVmId, secondVmId);
            ToolResult attest = home.Tl("vm", "attest", "-g", Group, "-n", "second");
            Assert.True(attest.ExitCode == 0, attest.ToString());
            JsonElement verdict = JsonDocument.Parse(attest.StandardOutput).RootElement;
            Assert.Equal("pass", verdict.GetProperty("verdict").GetString());
            Assert.Equal(secondVmId.ToString(), verdict.GetProperty("claims").GetProperty("x-ms-azurevm-vmid").GetString(), ignoreCase: true);
            JsonElement secondIdentity = home.TlJson("vm", "identity", "-g", Group, "-n", "second");
            Assert.Equal(Pem(firstIdentity, "encryptionKey", "ekPub"), Pem(secondIdentity, "encryptionKey", "ekPub"));
            Assert.Equal(Pem(firstIdentity, "encryptionKey", "ekCert"), Pem(secondIdentity, "encryptionKey", "ekCert"));
            Assert.Equal(secondVmId, AkSubjectVmId(secondIdentity));
            Assert.Equal("Attached", home.TlJson("disk", "show", "-g", Group, "-n", disk).GetProperty("properties").GetProperty("diskState").GetString());
            Assert.False(Directory.Exists(folder), "the detached folder became the new VM's");
            Step("second VM attested: same EK, AK certificate for its own vmId");

            // What the vTPM itself serves (tpm2_nvread on the VMGS once deallocated): the old EK certificate, the AK one re-issued.
            Assert.Equal(0, home.Tl("vm", "deallocate", "-g", Group, "-n", "second").ExitCode);
            Assert.Empty(PlatformHome.ProcessesOf(secondVmId));
            IReadOnlyDictionary<string, X509Certificate2> served = VTpmCertificates.Read(Path.Combine(home.Path, "vms", secondVmId.ToString("D"), "vm.vmgs"),
                Path.Combine(home.Path, "host", "host.kek"), VTpmCertificates.EkRsaIndex, VTpmCertificates.AkIndex);
            Assert.Equal(X509Certificate2.CreateFromPem(Pem(firstIdentity, "encryptionKey", "ekCert")).RawData, served[VTpmCertificates.EkRsaIndex].RawData);
            Assert.Equal(X509Certificate2.CreateFromPem(Pem(secondIdentity, "signingKey", "ekCert")).RawData, served[VTpmCertificates.AkIndex].RawData);
            Assert.Equal(secondVmId, Guid.Parse(served[VTpmCertificates.AkIndex].GetNameInfo(X509NameType.SimpleName, forIssuer: false)));
            Assert.Equal(X509Certificate2.CreateFromPem(Pem(firstIdentity, "signingKey", "ekCert")).PublicKey.ExportSubjectPublicKeyInfo(),
                served[VTpmCertificates.AkIndex].PublicKey.ExportSubjectPublicKeyInfo());
            Step("the vTPM serves the first VM's EK certificate and an AK certificate (same key) for the new vmId");

            // 4. Delete it with deleteOption Delete: the disk resource and its files are gone.
            Assert.Equal(0, home.Tl("vm", "delete", "-g", Group, "-n", "second", "--yes").ExitCode);
            Assert.False(Directory.Exists(Path.Combine(home.Path, "vms", secondVmId.ToString("D"))), "the VM folder is gone");
            Assert.False(Directory.Exists(folder), "no detached folder");
            Assert.Empty(PlatformHome.ProcessesOf(secondVmId));
            Assert.Equal(2, home.Tl("disk", "show", "-g", Group, "-n", disk).ExitCode);
            Step("second VM deleted with its disk");
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    private static string Pem(JsonElement identity, string key, string what) => identity.GetProperty(key).GetProperty(what).GetString()!;

    private static Guid AkSubjectVmId(JsonElement identity)
    {
        using X509Certificate2 ak = X509Certificate2.CreateFromPem(Pem(identity, "signingKey", "ekCert"));
        return Guid.Parse(ak.GetNameInfo(X509NameType.SimpleName, forIssuer: false));
    }
}
