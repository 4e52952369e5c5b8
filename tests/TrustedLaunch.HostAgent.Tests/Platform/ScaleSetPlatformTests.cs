using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using TrustedLaunch.Testing;
using Xunit.Abstractions;

namespace TrustedLaunch.HostAgent.Tests.Platform;

/// <summary>
/// A flexible Trusted Launch scale set on real TCG boots: <c>tl vmss create</c> with three instances on a <c>tl host</c>
/// (the service without its local host, the host offering 4 vCPUs); each instance is a full VM with its own VMGS and a
/// freshly manufactured vTPM (three distinct EKs and AK certificates, as the VMGS holds them), each attests; scaled to one,
/// the two removed instances' folders (OS disk and VMGS) and processes are gone; deleting the scale set leaves nothing.
/// </summary>
[Collection(PlatformBoots.Name)]
[IntegrationTest]
public sealed class ScaleSetPlatformTests(ITestOutputHelper output)
{
    private const string Group = "vmss";

    [Fact]
    public void TrustedLaunchScaleSet_ThreeInstancesThreeIdentitiesAllAttest_ScaledToOne_DeletedCleanly()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-platform-vmss");
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        try
        {
            ToolResult built = home.TlProcess(TimeSpan.FromMinutes(20), "image", "build", "debian-12", "--generation", "2");
            Assert.True(built.ExitCode == 0, built.ToString());
            Step("image built (or cached)");
            // The platform CA a host certifies vTPMs with (tl server makes one only for its own local host).
            ToolResult ca = home.TlProcess(TimeSpan.FromMinutes(2), "ca", "init", Path.Combine(home.Path, "pki"));
            Assert.True(ca.ExitCode == 0, ca.ToString());
            home.StartServer("--no-local-host");
            home.Start("host", "host", "--server", home.Url, "--vcpus", "4");
            Assert.Equal(0, home.Tl("group", "create", "-n", Group).ExitCode);

            ToolResult created = home.Tl("vmss", "create", "-g", Group, "-n", "web", "--image", "debian-12", "--vm-sku", "Standard_B1s",
                "--instance-count", "3", "--orchestration-mode", "Flexible", "--security-type", "TrustedLaunch",
                "--enable-secure-boot", "true", "--enable-vtpm", "true", "-o", "json");
            Assert.True(created.ExitCode == 0, $"{created}\n{home.Logs()}");
            JsonElement scaleSet = JsonDocument.Parse(created.StandardOutput).RootElement;
            Assert.Equal("Succeeded", scaleSet.GetProperty("properties").GetProperty("provisioningState").GetString());
            Assert.Equal(3, scaleSet.GetProperty("sku").GetProperty("capacity").GetInt64());
            Step("scale set created: three instances running");

            JsonElement[] instances = Instances(home);
            Assert.Equal(3, instances.Length);
            var folders = new Dictionary<string, string>();
            var ekCertificates = new HashSet<string>();
            var akCertificates = new HashSet<string>();
            var ekKeys = new HashSet<string>();
            foreach (JsonElement instance in instances)
            {
                string name = instance.GetProperty("name").GetString()!;
                var vmId = Guid.Parse(instance.GetProperty("properties").GetProperty("vmId").GetString()!);
                Assert.Equal(scaleSet.GetProperty("id").GetString(), instance.GetProperty("properties").GetProperty("virtualMachineScaleSet").GetProperty("id").GetString());
                PlatformHome.WaitUntil(() => home.InstanceView(Group, name).Attestation == "pass", TimeSpan.FromMinutes(4),
                    $"{name} did not attest: {home.InstanceView(Group, name)}\n{home.Logs()}");
                Assert.Equal(("running", "booted", "pass"), home.InstanceView(Group, name));
                string folder = Path.Combine(home.Path, "vms", vmId.ToString("D"));
                Assert.True(File.Exists(Path.Combine(folder, "vm.vmgs")) && File.Exists(Path.Combine(folder, "disk.qcow2")), $"{name}'s folder");
                folders[name] = folder;
                JsonElement identity = home.TlJson("vm", "identity", "-g", Group, "-n", name);
                ekCertificates.Add(identity.GetProperty("encryptionKey").GetProperty("ekCert").GetString()!);
                ekKeys.Add(identity.GetProperty("encryptionKey").GetProperty("ekPub").GetString()!);
                akCertificates.Add(identity.GetProperty("signingKey").GetProperty("ekCert").GetString()!);
            }

            Assert.Equal(3, ekCertificates.Count);
            Assert.Equal(3, ekKeys.Count);
            Assert.Equal(3, akCertificates.Count);
            Assert.Equal(3, folders.Values.Select(f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(f, "vm.vmgs"))))).Distinct().Count());
            Step("three distinct vTPM identities, all attested");

            ToolResult scaled = home.Tl("vmss", "scale", "-g", Group, "-n", "web", "--new-capacity", "1", "-o", "json");
            Assert.True(scaled.ExitCode == 0, $"{scaled}\n{home.Logs()}");
            JsonElement[] left = Instances(home);
            string kept = Assert.Single(left).GetProperty("name").GetString()!;
            foreach ((string name, string folder) in folders.Where(f => f.Key != kept))
            {
                Assert.False(Directory.Exists(folder), $"{name}'s OS disk and VMGS are gone");
                Assert.Empty(PlatformHome.ProcessesOf(Guid.Parse(Path.GetFileName(folder))));
                Assert.Equal(2, home.Tl("vm", "show", "-g", Group, "-n", name).ExitCode);
            }

            Assert.True(Directory.Exists(folders[kept]));
            Assert.Equal("running", home.InstanceView(Group, kept).Power);
            Step("scaled to one: the two removed instances' files are gone");

            Assert.Equal(0, home.Tl("vmss", "delete", "-g", Group, "-n", "web", "--yes").ExitCode);
            Assert.False(Directory.Exists(folders[kept]));
            Assert.Equal(2, home.Tl("vmss", "show", "-g", Group, "-n", "web").ExitCode);
            Step("deleted");
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    private static JsonElement[] Instances(PlatformHome home) =>
        [.. home.TlJson("vmss", "list-instances", "-g", Group, "-n", "web").EnumerateArray()];
}
