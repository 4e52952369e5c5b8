using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.Testing;
using Xunit.Abstractions;

namespace TrustedLaunch.HostAgent.Tests.Platform;

/// <summary>
/// Azure's upgrade path on real TCG boots (docs/upgrade.md): a Standard Generation 2 VM boots without Secure Boot or vTPM;
/// deallocated, an upgrade whose boot chain the new db would refuse (a custom db of the owner's own certificate, which
/// does not admit Debian's Microsoft-signed shim) is refused by the pre-flight, naming the binary, and nothing changes (same ETag, same
/// VMGS bytes, no vTPM); the upgrade with Microsoft's keys is accepted, and the next start boots with Secure Boot and a
/// fresh vTPM and attests; rolled back to Standard the vTPM stays in the VMGS, and rolled forward the VM boots with the
/// same EK again.
/// </summary>
[Collection(PlatformBoots.Name)]
[IntegrationTest]
public sealed class UpgradePlatformTests(ITestOutputHelper output)
{
    private const string Group = "upgrade";
    private const string Vm = "legacy";

    /// <summary>PATCH (through HTTP: the CLI offers only Microsoft's templates) the upgrade with a custom db of one self-signed certificate.</summary>
    private static (HttpStatusCode Status, JsonElement Error) PatchWithOwnDb(PlatformHome home, Guid vmId)
    {
        using var key = RSA.Create(2048); // edk2 takes RSA certificates only
        using X509Certificate2 own = new CertificateRequest("CN=Upgrade test db", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        JsonElement vm = home.TlJson("vm", "show", "-g", Group, "-n", Vm);
        Assert.Equal(vmId.ToString(), vm.GetProperty("properties").GetProperty("vmId").GetString());
        var body = new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["securityProfile"] = new JsonObject
                {
                    ["securityType"] = "TrustedLaunch",
                    ["uefiSettings"] = new JsonObject { ["secureBootEnabled"] = true, ["vTpmEnabled"] = true },
                },
                ["trustedLaunchExtensions"] = new JsonObject
                {
                    ["secureBootTemplate"] = "custom",
                    ["secureBootKeys"] = new JsonObject { ["db"] = new JsonArray(Convert.ToBase64String(own.RawData)) },
                },
            },
        };
        using var http = new HttpClient();
        using var content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using HttpResponseMessage answer = http.PatchAsync(new Uri($"{home.Url}{vm.GetProperty("id").GetString()}?api-version=2024-07-01"), content)
            .GetAwaiter().GetResult();
        JsonElement json = JsonDocument.Parse(answer.Content.ReadAsStringAsync().GetAwaiter().GetResult()).RootElement.Clone();
        return (answer.StatusCode, json.TryGetProperty("error", out JsonElement error) ? error : json);
    }

    [Fact]
    public void StandardGen2Vm_UpgradedToTrustedLaunch_BootsWithSecureBootAndAttests_RefusedPreflightChangesNothing_RollbackKeepsTheVTpm()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-platform-upgrade");
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        try
        {
            home.StartWithGroup(Group);

            // 1. A Standard Gen2 VM: UEFI without Secure Boot, no vTPM.
            ToolResult created = home.Tl("vm", "create", "-g", Group, "-n", Vm, "--image", "debian-12", "--size", "Standard_B1s",
                "--security-type", "Standard", "--os-disk-delete-option", "Delete");
            Assert.True(created.ExitCode == 0, $"{created}\n{home.Logs()}");
            Assert.Contains("TL-GUEST: secure-boot=disabled", home.Tl("vm", "boot-log", "-g", Group, "-n", Vm).StandardOutput, StringComparison.Ordinal);
            var vmId = Guid.Parse(home.TlJson("vm", "show", "-g", Group, "-n", Vm).GetProperty("properties").GetProperty("vmId").GetString()!);
            string vmgs = Path.Combine(home.Path, "vms", vmId.ToString("D"), "vm.vmgs");
            string kek = Path.Combine(home.Path, "host", "host.kek");
            Assert.Equal(0, home.Tl("vm", "deallocate", "-g", Group, "-n", Vm).ExitCode);
            Step("Standard Gen2 VM booted and deallocated");

            // 2. The pre-flight: Secure Boot with a db holding only the owner's own certificate would refuse Debian's shim (signed
            // by Microsoft's UEFI CAs), so the upgrade is refused, naming the binary and the firmware's reason, and nothing changes.
            string etag = home.TlJson("vm", "show", "-g", Group, "-n", Vm).GetProperty("etag").GetString()!;
            string vmgsBefore = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(vmgs)));
            (HttpStatusCode status, JsonElement error) = PatchWithOwnDb(home, vmId);
            output.WriteLine(error.ToString());
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("SecureBootPreflightFailed", error.GetProperty("code").GetString());
            string message = error.GetProperty("message").GetString()!;
            Assert.StartsWith("Secure Boot would not boot VM 'legacy': /EFI/BOOT/BOOTX64.EFI on its OS disk", message, StringComparison.Ordinal);
            Assert.Contains("would be refused with the VM's new db/dbx (secureBootTemplate 'custom'): Denied: Signer not in db", message, StringComparison.Ordinal);
            JsonElement unchanged = home.TlJson("vm", "show", "-g", Group, "-n", Vm);
            Assert.Equal(etag, unchanged.GetProperty("etag").GetString());
            Assert.False(unchanged.GetProperty("properties").TryGetProperty("securityProfile", out _), "still Standard");
            Assert.Equal(vmgsBefore, Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(vmgs))));
            Step("pre-flight refused the custom db; nothing changed");

            // 3. The upgrade with Microsoft's keys; the next start boots with Secure Boot and a fresh vTPM, and attests.
            ToolResult upgraded = home.Tl("vm", "update", "-g", Group, "-n", Vm, "--security-type", "TrustedLaunch",
                "--enable-secure-boot", "true", "--enable-vtpm", "true", "-o", "json");
            Assert.True(upgraded.ExitCode == 0, upgraded.ToString());
            JsonElement security = JsonDocument.Parse(upgraded.StandardOutput).RootElement.GetProperty("properties").GetProperty("securityProfile");
            Assert.Equal("TrustedLaunch", security.GetProperty("securityType").GetString());
            Assert.True(security.GetProperty("uefiSettings").GetProperty("secureBootEnabled").GetBoolean());
            Assert.Equal(vmgsBefore, Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(vmgs)))); // the host changes it at the start, not before
            Assert.Equal(0, home.Tl("vm", "start", "-g", Group, "-n", Vm).ExitCode);
            string bootLog = home.Tl("vm", "boot-log", "-g", Group, "-n", Vm).StandardOutput;
            Assert.Contains("TL-GUEST: secure-boot=enabled", bootLog, StringComparison.Ordinal);
            Assert.Contains("TL-GUEST: tpm=2.0", bootLog, StringComparison.Ordinal);
            PlatformHome.WaitUntil(() => home.InstanceView(Group, Vm).Attestation == "pass", TimeSpan.FromMinutes(4),
                $"the upgraded VM did not attest: {home.InstanceView(Group, Vm)}\n{home.Logs()}");
            Assert.Equal(("running", "booted", "pass"), home.InstanceView(Group, Vm));
            string ek = home.TlJson("vm", "identity", "-g", Group, "-n", Vm).GetProperty("encryptionKey").GetProperty("ekCert").GetString()!;
            Step("upgraded: booted with Secure Boot and a vTPM, attested");

            // 4. Rollback to Standard: the vTPM stays in the VMGS, with the OS disk.
            Assert.Equal(0, home.Tl("vm", "deallocate", "-g", Group, "-n", Vm).ExitCode);
            ToolResult rolledBack = home.Tl("vm", "update", "-g", Group, "-n", Vm, "--security-type", "Standard", "-o", "json");
            Assert.True(rolledBack.ExitCode == 0, rolledBack.ToString());
            Assert.False(JsonDocument.Parse(rolledBack.StandardOutput).RootElement.GetProperty("properties").TryGetProperty("securityProfile", out _));
            X509Certificate2 kept = VTpmCertificates.Read(vmgs, kek, VTpmCertificates.EkRsaIndex)[VTpmCertificates.EkRsaIndex];
            Assert.Equal(X509Certificate2.CreateFromPem(ek).RawData, kept.RawData);
            Step("rolled back: the vTPM is kept in the VMGS");

            // 5. Roll forward: the same identity comes back.
            ToolResult forward = home.Tl("vm", "update", "-g", Group, "-n", Vm, "--security-type", "TrustedLaunch", "--enable-secure-boot", "true", "--enable-vtpm", "true");
            Assert.True(forward.ExitCode == 0, forward.ToString());
            Assert.Equal(0, home.Tl("vm", "start", "-g", Group, "-n", Vm).ExitCode);
            Assert.Equal(("running", "booted"), (home.InstanceView(Group, Vm).Power, home.InstanceView(Group, Vm).Verdict));
            ToolResult attest = home.Tl("vm", "attest", "-g", Group, "-n", Vm); // a fresh attestation of this boot
            Assert.True(attest.ExitCode == 0, attest.ToString());
            Assert.Equal("pass", JsonDocument.Parse(attest.StandardOutput).RootElement.GetProperty("verdict").GetString());
            Assert.Equal(ek, home.TlJson("vm", "identity", "-g", Group, "-n", Vm).GetProperty("encryptionKey").GetProperty("ekCert").GetString());
            Step("rolled forward: same EK, attested");

            Assert.Equal(0, home.Tl("vm", "delete", "-g", Group, "-n", Vm, "--yes").ExitCode);
            Assert.False(File.Exists(vmgs));
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }
}
