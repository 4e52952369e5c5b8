using System.Diagnostics;
using System.Text.Json;
using TrustedLaunch.Testing;
using Xunit.Abstractions;

namespace TrustedLaunch.HostAgent.Tests.Platform;

/// <summary>
/// Azure's Generation rules on real boots: a Generation 1 image (MBR, GRUB for BIOS, built by <c>tl image build --generation 1</c>)
/// is refused with Trusted Launch, with Azure's message, and the same image boots as a Standard VM under SeaBIOS; a Standard
/// Generation 2 VM boots UEFI without Secure Boot and without a vTPM. Both boot at once on the service's local host.
/// </summary>
[Collection(PlatformBoots.Name)]
[IntegrationTest]
public sealed class StandardVmPlatformTests(ITestOutputHelper output)
{
    private const string Group = "standard";

    [Fact]
    public void Gen1Image_TrustedLaunchRefused_BootsAsStandard_AndAStandardGen2VmBootsWithoutVTpm()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-platform-std");
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        try
        {
            foreach (string generation in new[] { "1", "2" })
            {
                ToolResult built = home.TlProcess(TimeSpan.FromMinutes(15), "image", "build", "debian-12", "--generation", generation);
                Assert.True(built.ExitCode == 0, built.ToString());
            }

            Step("images built (or cached)");
            home.StartServer();
            Assert.Equal(0, home.Tl("group", "create", "-n", Group).ExitCode);

            // Trusted Launch on the Gen1 image: Azure's refusal, nothing created.
            ToolResult refused = home.Tl("vm", "create", "-g", Group, "-n", "gen1tl", "--image", "debian-12-gen1", "--size", "Standard_B1s",
                "--security-type", "TrustedLaunch", "--enable-secure-boot", "true", "--enable-vtpm", "true");
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("(TrustedLaunchImageNotSupported) Use of TrustedLaunch setting is not supported for the provided image. Please select Trusted Launch Supported Gen2 OS Image.",
                refused.StandardError, StringComparison.Ordinal);
            Assert.Equal(2, home.Tl("vm", "show", "-g", Group, "-n", "gen1tl").ExitCode);

            // The same image as Standard, and a Standard Gen2 VM, created at once.
            foreach ((string name, string image) in new[] { ("gen1", "debian-12-gen1"), ("gen2std", "debian-12") })
            {
                ToolResult created = home.Tl("vm", "create", "-g", Group, "-n", name, "--image", image, "--size", "Standard_B1s", "--security-type", "Standard",
                    "--os-disk-delete-option", "Delete", "--no-wait");
                Assert.True(created.ExitCode == 0, created.ToString());
            }

            foreach (string name in new[] { "gen1", "gen2std" })
            {
                PlatformHome.WaitUntil(() => home.InstanceView(Group, name) is { Power: "running", Verdict: "booted" } or { Verdict: "failed" or "no-bootable-device" },
                    TimeSpan.FromMinutes(6), $"{name} did not boot: {home.InstanceView(Group, name)}\n{home.Logs()}");
                Assert.Equal(("running", "booted", null), home.InstanceView(Group, name));
            }

            Step("both booted");
            string gen1Log = home.Tl("vm", "boot-log", "-g", Group, "-n", "gen1").StandardOutput;
            string gen2Log = home.Tl("vm", "boot-log", "-g", Group, "-n", "gen2std").StandardOutput;
            Assert.Contains("GRUB (BIOS): loading /vmlinuz", gen1Log, StringComparison.Ordinal);
            Assert.Contains("TL-GUEST: tpm=none", gen1Log, StringComparison.Ordinal);
            Assert.Contains("TL-GUEST: tpm=none", gen2Log, StringComparison.Ordinal);
            Assert.Contains("TL-GUEST: secure-boot=disabled", gen2Log, StringComparison.Ordinal);

            JsonElement gen1 = home.TlJson("vm", "show", "-g", Group, "-n", "gen1");
            JsonElement gen2 = home.TlJson("vm", "show", "-g", Group, "-n", "gen2std");
            var gen1Id = Guid.Parse(gen1.GetProperty("properties").GetProperty("vmId").GetString()!);
            var gen2Id = Guid.Parse(gen2.GetProperty("properties").GetProperty("vmId").GetString()!);
            Assert.False(gen1.GetProperty("properties").TryGetProperty("securityProfile", out _), "a Standard VM has no securityType");
            Assert.Null(PlatformHome.RunRecord(gen1Id)!.VTpm);
            Assert.Null(PlatformHome.RunRecord(gen1Id)!.Firmware); // SeaBIOS
            Assert.Null(PlatformHome.RunRecord(gen2Id)!.VTpm);
            Assert.NotNull(PlatformHome.RunRecord(gen2Id)!.Firmware); // OVMF
            Assert.False(File.Exists(Path.Combine(home.Path, "vms", gen1Id.ToString("D"), "vm.vmgs")), "a Gen1 VM has no UEFI guest state");
            Assert.True(File.Exists(Path.Combine(home.Path, "vms", gen2Id.ToString("D"), "vm.vmgs")));
            Assert.DoesNotContain(PlatformHome.ProcessesOf(gen2Id).Concat(PlatformHome.ProcessesOf(gen1Id)),
                pid => File.ReadAllText($"/proc/{pid}/cmdline").Contains("tl-vtpm", StringComparison.Ordinal));
            ToolResult identity = home.Tl("vm", "identity", "-g", Group, "-n", "gen2std");
            Assert.Equal(2, identity.ExitCode);
            Assert.Contains("(OperationNotAllowed)", identity.StandardError, StringComparison.Ordinal);

            foreach ((string name, Guid id) in new[] { ("gen1", gen1Id), ("gen2std", gen2Id) })
            {
                Assert.Equal(0, home.Tl("vm", "delete", "-g", Group, "-n", name, "--yes").ExitCode);
                Assert.False(Directory.Exists(Path.Combine(home.Path, "vms", id.ToString("D"))));
                Assert.Empty(PlatformHome.ProcessesOf(id));
            }

            Step("deleted");
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }
}
