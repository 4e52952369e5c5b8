using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.HostAgent.Tests.Platform;
using TrustedLaunch.Testing;
using Xunit.Abstractions;

namespace TrustedLaunch.HostAgent.Tests.SecureBoot;

/// <summary>
/// Issue 20 on real TCG boots, through the control plane: <c>tl vm secure-boot update-keys</c> (POST …/x-tl-updateSecureBootKeys)
/// rewrites KEK/db/dbx in the VMGS of deallocated VMs by their host, Microsoft's real DBXUpdate.bin goes fleet-wide over a
/// resource group, and the sanctioned relearn keeps the next attestation quiet and honest.
/// </summary>
[Collection(PlatformBoots.Name)]
[IntegrationTest]
public sealed class KeyRolloverPlatformTests(ITestOutputHelper output)
{
    private const string Group = "rollover";
    private const string CasKey = "5c1d7e0a-2b9f-4f3e-9a64-2026b007ca23";
    private static readonly TimeSpan BootTimeout = TimeSpan.FromMinutes(6);

    /// <summary>
    /// Four VMs (microsoft-2011, microsoft twice — one with an operator KEK besides —, microsoft-2023) boot once and are
    /// deallocated. The 2011-only VM's "2023 CAs" recommendation is Unhealthy. DBXUpdate.bin over the resource group, two at
    /// a time: applied to the three VMs whose KEK can verify it, refused by name for the 2023-only KEK (nothing of the
    /// others lost). Then <c>--template microsoft</c> on the
    /// 2011 VM; it starts, boots, attests; the baseline is relearned for that operation with no alert, the recommendation
    /// turns Healthy. A request on the running VM is recorded for its next restart, as its instance view says.
    /// </summary>
    [Fact]
    public async Task Microsoft2011Vm_UpdateKeysThroughControlPlane_BootsAttestsRelearnedForOperationNoAlert_FleetDbxRefusedBy2023KekByName()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-rollover");
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        string dbxUpdate = Path.Combine(AppContext.BaseDirectory, "SecureBootObjects", "DBXUpdate.bin");
        Assert.True(File.Exists(dbxUpdate), dbxUpdate);
        try
        {
            ToolResult built = home.TlProcess(TimeSpan.FromMinutes(15), "image", "build", "debian-12");
            Assert.True(built.ExitCode == 0, built.ToString());
            home.StartServer();
            Assert.Equal(0, home.Tl("group", "create", "-n", Group).ExitCode);
            Assert.Equal(0, home.Tl("security", "pricing", "create", "-n", "VirtualMachines", "--tier", "Standard").ExitCode);
            // dual also enrolls a KEK of the operator's own, so a dbx update revoking the shim's CA can be signed for it.
            using RSA operatorKey = RSA.Create(2048);
            using X509Certificate2 operatorKek = new CertificateRequest("CN=Operator KEK", operatorKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            foreach ((string vm, string template) in new[] { ("old", "microsoft-2011"), ("dual", "microsoft"), ("plain", "microsoft"), ("new", "microsoft-2023") })
            {
                if (vm == "dual")
                    await PutDualAsync(home, operatorKek);
                else
                {
                    ToolResult created = home.Tl("vm", "create", "-g", Group, "-n", vm, "--image", "debian-12", "--size", "Standard_B1s", "--security-type", "TrustedLaunch",
                        "--enable-secure-boot", "true", "--enable-vtpm", "true", "--secure-boot-template", template, "--os-disk-delete-option", "Delete", "--no-wait");
                    Assert.True(created.ExitCode == 0, created.ToString());
                }

                WaitRunning(home, vm);
                PlatformHome.WaitUntil(() => home.InstanceView(Group, vm).Attestation == "pass", TimeSpan.FromMinutes(3),
                    $"{vm} did not attest: {home.InstanceView(Group, vm)}\n{home.Logs()}");
                if (vm == "old")
                {
                    WaitForAssessment(home, vm, "Unhealthy");
                    Step("old (microsoft-2011) booted and attested: 2023 CAs recommendation Unhealthy");
                }

                Assert.Equal(0, home.Tl("vm", "deallocate", "-g", Group, "-n", vm).ExitCode);
            }

            Step("four VMs booted once, attested, deallocated");

            // Fleet: the real DBXUpdate.bin over the resource group, two at a time.
            ToolResult fleet = home.Tl("vm", "secure-boot", "update-keys", "-g", Group, "--dbx-update", dbxUpdate, "--max-parallel", "2", "-o", "json");
            output.WriteLine(fleet.ToString());
            Assert.Equal(1, fleet.ExitCode);
            Dictionary<string, JsonElement> rows = JsonDocument.Parse(fleet.StandardOutput).RootElement.EnumerateArray()
                .ToDictionary(r => r.GetProperty("name").GetString()!, r => r.Clone(), StringComparer.Ordinal);
            Assert.Equal("Succeeded", rows["old"].GetProperty("outcome").GetString());
            Assert.Equal("Succeeded", rows["dual"].GetProperty("outcome").GetString());
            Assert.Equal("Succeeded", rows["plain"].GetProperty("outcome").GetString());
            Assert.Equal("Failed", rows["new"].GetProperty("outcome").GetString());
            string refusal = rows["new"].GetProperty("detail").GetString()!;
            Assert.Contains("SecureBootKeyUpdateRefusedByKek", refusal, StringComparison.Ordinal);
            Assert.Contains("DBXUpdate.bin is refused: the VM's KEK cannot verify it", refusal, StringComparison.Ordinal);
            JsonElement dualUpdate = KeyUpdate(home, "dual");
            Assert.Equal("Applied", dualUpdate.GetProperty("outcome").GetString());
            Assert.True(dualUpdate.GetProperty("after").GetProperty("dbxCount").GetInt32() > dualUpdate.GetProperty("before").GetProperty("dbxCount").GetInt32());
            Assert.Equal("RefusedByKek", KeyUpdate(home, "new").GetProperty("outcome").GetString());
            Assert.Equal("Applied", KeyUpdate(home, "plain").GetProperty("outcome").GetString());
            Step("fleet DBXUpdate.bin: old, dual and plain applied, new (2023-only KEK) refused by name");

            // A dbx update revoking Microsoft UEFI CA 2011, signed by dual's own KEK: Debian's dual-signed shim would be denied
            // (any forbidden signature denies the image), so its host's pre-flight refuses it and the VMGS stays as it was.
            string revoke = Path.Combine(home.Path, "revoke-uefi-ca-2011.auth");
            byte[] revoked = SignatureDatabaseEntry.EncodeLists([new SignatureDatabaseEntry(EfiSignatureKind.X509, EfiGuids.MicrosoftOwner, MicrosoftCertificates.UefiCa2011.Der)]);
            await File.WriteAllBytesAsync(revoke, AuthenticatedVariableSigner.Sign(WellKnownVariables.Dbx, EfiVariableAttributes.SecureBootDatabase | EfiVariableAttributes.AppendWrite,
                new EfiTime(2026, 12, 1, 0, 0, 0), revoked, operatorKek).Encode());
            string dualVmgs = Path.Combine(home.Path, "vms", VmId(home, "dual").ToString("D"), "vm.vmgs");
            string vmgsBefore = Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(dualVmgs)));
            ToolResult refused = home.Tl("vm", "secure-boot", "update-keys", "-g", Group, "-n", "dual", "--dbx-update", revoke, "-o", "json");
            output.WriteLine(refused.ToString());
            Assert.Equal(1, refused.ExitCode);
            string why = JsonDocument.Parse(refused.StandardOutput).RootElement[0].GetProperty("detail").GetString()!;
            Assert.Contains("SecureBootPreflightFailed", why, StringComparison.Ordinal);
            Assert.Contains("/EFI/BOOT/BOOTX64.EFI would no longer boot: Denied", why, StringComparison.Ordinal);
            Assert.Contains("Microsoft Corporation UEFI CA 2011", why, StringComparison.Ordinal);
            Assert.Equal(vmgsBefore, Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(dualVmgs))));
            Step("dbx revoking dual's shim: refused by the pre-flight, naming the binary; VMGS byte-identical");

            // The 2011 VM to the microsoft template (2011 and 2023 CAs), deallocated: its host applies it now.
            ToolResult rolled = home.Tl("vm", "secure-boot", "update-keys", "-g", Group, "-n", "old", "--template", "microsoft", "-o", "json");
            output.WriteLine(rolled.ToString());
            Assert.True(rolled.ExitCode == 0, rolled.ToString());
            JsonElement oldUpdate = KeyUpdate(home, "old");
            string operationId = oldUpdate.GetProperty("operationId").GetString()!;
            Assert.Equal("Applied", oldUpdate.GetProperty("outcome").GetString());
            Assert.Contains(oldUpdate.GetProperty("changes").EnumerateArray(), c => c.GetString()!.StartsWith("db added CN=Microsoft UEFI CA 2023", StringComparison.Ordinal));
            Assert.Equal(2, oldUpdate.GetProperty("after").GetProperty("kek").GetArrayLength());
            Step($"old: template microsoft applied by its host (operation {operationId})");

            Assert.Equal(0, home.Tl("vm", "start", "-g", Group, "-n", "old").ExitCode);
            WaitRunning(home, "old");
            PlatformHome.WaitUntil(() => home.Logs().Contains($"PCR 7 changed as operation {operationId} sanctioned", StringComparison.Ordinal), TimeSpan.FromMinutes(3),
                $"no relearn for {operationId}: {home.InstanceView(Group, "old")}\n{home.Logs()}");
            Assert.Equal("pass", home.InstanceView(Group, "old").Attestation);
            WaitForAssessment(home, "old", "Healthy");
            Thread.Sleep(TimeSpan.FromSeconds(3)); // longer than the posture engine's coalescing
            Assert.DoesNotContain(home.TlJson("security", "alert", "list").EnumerateArray(),
                a => a.GetProperty("properties").GetProperty("alertType").GetString() == "TL_VM_AttestationFailed");
            Step("old booted with the new keys: attested, baseline relearned for the operation, no alert, recommendation Healthy");

            // Running: recorded, applied at the next restart.
            ToolResult pending = home.Tl("vm", "secure-boot", "update-keys", "-g", Group, "-n", "old", "--template", "microsoft-2023", "-o", "json");
            Assert.True(pending.ExitCode == 0, pending.ToString());
            Assert.Equal("PendingRestart", JsonDocument.Parse(pending.StandardOutput).RootElement[0].GetProperty("outcome").GetString());
            JsonElement statuses = home.TlJson("vm", "get-instance-view", "-g", Group, "-n", "old").GetProperty("properties").GetProperty("instanceView").GetProperty("statuses");
            Assert.Contains(statuses.EnumerateArray(), s => s.GetProperty("code").GetString() == "x-tl-SecureBootKeyUpdate/pendingRestart");
            Step("running VM: recorded for its next restart");
            foreach (string vm in new[] { "old", "dual", "new" })
                Assert.Equal(0, home.Tl("vm", "delete", "-g", Group, "-n", vm, "--yes").ExitCode);
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    private static Guid VmId(PlatformHome home, string vm) =>
        Guid.Parse(home.TlJson("vm", "show", "-g", Group, "-n", vm).GetProperty("properties").GetProperty("vmId").GetString()!);

    /// <summary>dual through the ARM API itself: template microsoft plus the operator's KEK (trustedLaunchExtensions.secureBootKeys).</summary>
    private static async Task PutDualAsync(PlatformHome home, X509Certificate2 operatorKek)
    {
        JsonElement old = home.TlJson("vm", "show", "-g", Group, "-n", "old");
        JsonNode image = JsonNode.Parse(old.GetProperty("properties").GetProperty("storageProfile").GetProperty("imageReference").GetRawText())!;
        var body = new JsonObject
        {
            ["location"] = old.GetProperty("location").GetString(),
            ["properties"] = new JsonObject
            {
                ["hardwareProfile"] = new JsonObject { ["vmSize"] = "Standard_B1s" },
                ["storageProfile"] = new JsonObject
                {
                    ["imageReference"] = new JsonObject
                    {
                        ["publisher"] = image["publisher"]!.GetValue<string>(), ["offer"] = image["offer"]!.GetValue<string>(),
                        ["sku"] = image["sku"]!.GetValue<string>(), ["version"] = image["version"]!.GetValue<string>(),
                    },
                    ["osDisk"] = new JsonObject { ["createOption"] = "FromImage", ["deleteOption"] = "Delete" },
                },
                ["securityProfile"] = new JsonObject
                {
                    ["securityType"] = "TrustedLaunch", ["uefiSettings"] = new JsonObject { ["secureBootEnabled"] = true, ["vTpmEnabled"] = true },
                },
                ["osProfile"] = new JsonObject { ["computerName"] = "dual" },
                ["trustedLaunchExtensions"] = new JsonObject
                {
                    ["secureBootTemplate"] = "microsoft",
                    ["secureBootKeys"] = new JsonObject { ["kek"] = new JsonArray(Convert.ToBase64String(operatorKek.RawData)) },
                },
            },
        };
        using var http = new HttpClient { BaseAddress = new Uri(home.Url), Timeout = TimeSpan.FromSeconds(30) };
        string id = old.GetProperty("id").GetString()!;
        using var content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using HttpResponseMessage put = await http.PutAsync(new Uri(id[..(id.LastIndexOf('/') + 1)] + "dual?api-version=2024-07-01", UriKind.Relative), content);
        Assert.True(put.IsSuccessStatusCode, $"{put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
    }

    private static JsonElement KeyUpdate(PlatformHome home, string vm) =>
        home.TlJson("vm", "get-instance-view", "-g", Group, "-n", vm).GetProperty("properties").GetProperty("instanceView").GetProperty("x-tl-secureBootKeyUpdate").Clone();

    private static void WaitRunning(PlatformHome home, string name)
    {
        PlatformHome.WaitUntil(() => home.InstanceView(Group, name) is { Power: "running", Verdict: "booted" } or { Verdict: "failed" or "no-bootable-device" or "secure-boot-violation" },
            BootTimeout, $"{name} did not boot: {home.InstanceView(Group, name)}\n{home.Logs()}");
        Assert.Equal(("running", "booted"), (home.InstanceView(Group, name).Power, home.InstanceView(Group, name).Verdict));
    }

    private void WaitForAssessment(PlatformHome home, string vm, string code)
    {
        string last = "";
        PlatformHome.WaitUntil(() =>
        {
            JsonElement? found = home.TlJson("security", "assessment", "list", "-g", Group, "--vm", vm).EnumerateArray()
                .Where(a => a.GetProperty("name").GetString() == CasKey).Select(a => (JsonElement?)a.Clone()).FirstOrDefault();
            last = found?.ToString() ?? "(none)";
            return found?.GetProperty("properties").GetProperty("status").GetProperty("code").GetString() == code;
        }, TimeSpan.FromMinutes(3), $"{vm}: 2023 CAs recommendation not {code}: {last}\n{home.Logs()}");
        output.WriteLine($"{vm}: {last}");
    }
}
