using System.Diagnostics;
using System.Text.Json;
using TrustedLaunch.Images;
using TrustedLaunch.Testing;
using Xunit.Abstractions;

namespace TrustedLaunch.HostAgent.Tests.Platform;

/// <summary>
/// Azure's Bicep-compiled vm-simple-linux quickstart (a Trusted Launch VM with its NIC, VNet, subnet, NSG, public IP
/// and the guest attestation extension), deployed unchanged with <c>tl deployment group create</c> on one real TCG boot:
/// the Canonical image reference resolves through the catalog to the built Debian image, the VM boots and attests,
/// the extension reports installed once the guest agent has answered, the outputs resolve, and deploying it again
/// changes nothing (same VM version, same QEMU process, every operation unchanged).
/// </summary>
[Collection(PlatformBoots.Name)]
[IntegrationTest]
public sealed class DeploymentPlatformTests(ITestOutputHelper output)
{
    private const string Group = "deploy";
    private const string Vm = "simpleLinuxVM";

    private static readonly string Template = Path.Combine(AppContext.BaseDirectory, "TestData", "vm-simple-linux", "azuredeploy.json");

    [Fact]
    public async Task Quickstart_DeploysBootsAttests_AndRedeployIsNoOp()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-platform-deploy");
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        try
        {
            ToolResult built = home.TlProcess(TimeSpan.FromMinutes(15), "image", "build", "debian-12");
            Assert.True(built.ExitCode == 0, built.ToString());
            string disk = BuiltImages.Latest(PlatformHome.ImageCache).Select(BuiltImages.Describe).First(i => i.Generation == 2).FilePath;
            home.StartServer();
            Assert.Equal(0, home.Tl("group", "create", "-n", Group).ExitCode);
            ToolResult registered = home.Tl("image", "register", "--publisher", "Canonical", "--offer", "0001-com-ubuntu-server-focal", "--sku", "20_04-lts-gen2",
                "--version", "20.04.1", "--file", disk);
            Assert.True(registered.ExitCode == 0, registered.ToString());
            Step("image built and mapped to Canonical:0001-com-ubuntu-server-focal:20_04-lts-gen2");

            string[] deploy =
            [
                "deployment", "group", "create", "-g", Group, "--template-file", Template, "-o", "json", "--server", home.Url,
                "--parameters", "adminUsername=azureuser", "adminPasswordOrKey=Never-Echoed-9", "vmSize=Standard_B1s",
            ];
            ToolResult first = home.TlProcess(TimeSpan.FromMinutes(20), deploy);
            Step("deployed");
            Assert.True(first.ExitCode == 0, first + "\n" + home.Logs());
            Assert.DoesNotContain("Never-Echoed-9", first.StandardOutput + first.StandardError, StringComparison.Ordinal);
            JsonElement outputs = JsonDocument.Parse(first.StandardOutput).RootElement.GetProperty("properties").GetProperty("outputs");
            Assert.Matches("^ssh azureuser@simplelinuxvm-[a-z2-7]{13}\\.local\\.cloudapp\\.azure\\.com$", outputs.GetProperty("sshCommand").GetProperty("value").GetString());

            Assert.Equal(("running", "booted", "pass"), home.InstanceView(Group, Vm));
            JsonElement vm = home.TlJson("vm", "show", "-g", Group, "-n", Vm);
            Assert.Equal("TrustedLaunch", vm.GetProperty("properties").GetProperty("securityProfile").GetProperty("securityType").GetString());
            var vmId = Guid.Parse(vm.GetProperty("properties").GetProperty("vmId").GetString()!);
            int qemu = PlatformHome.RunRecord(vmId)!.Qemu!.Value.Pid;
            using (var http = new HttpClient())
            {
                string id = vm.GetProperty("id").GetString()!;
                JsonElement extension = JsonDocument.Parse(await http.GetStringAsync(new Uri($"{home.Url}{id}/extensions/GuestAttestation?api-version=2024-07-01")))
                    .RootElement;
                Assert.Equal("Succeeded", extension.GetProperty("properties").GetProperty("provisioningState").GetString());
                Assert.Equal("Microsoft.Azure.Security.LinuxAttestation", extension.GetProperty("properties").GetProperty("publisher").GetString());
            }

            Step("VM running, attested; extension installed");

            // Its NIC on the host: QEMU was started with a virtio NIC carrying the NIC resource's MAC, the NIC's private IP
            // for the guest's DHCP, and the quickstart NSG's SSH rule as a host forward; the forwarded host port is open.
            // (The guest image runs only the guest agent, no sshd: the connection reaches QEMU's slirp, not a guest listener.)
            string nicId = vm.GetProperty("properties").GetProperty("networkProfile").GetProperty("networkInterfaces")[0].GetProperty("id").GetString()!;
            JsonElement nic;
            using (var http = new HttpClient())
                nic = JsonDocument.Parse(await http.GetStringAsync(new Uri($"{home.Url}{nicId}?api-version=2023-09-01"))).RootElement.Clone();
            string mac = nic.GetProperty("properties").GetProperty("macAddress").GetString()!;
            JsonElement forward = nic.GetProperty("properties").GetProperty("trustedLaunchExtensions").GetProperty("hostForwards").EnumerateArray().Single();
            Assert.Equal(22, forward.GetProperty("guestPort").GetInt32());
            int hostPort = forward.GetProperty("hostPort").GetInt32();
            string qemuLine = string.Join(' ', PlatformHome.RunRecord(vmId)!.QemuArguments);
            Assert.Contains($"mac={mac.Replace('-', ':').ToLowerInvariant()}", qemuLine, StringComparison.Ordinal);
            Assert.Contains($"dhcpstart=10.1.0.4,hostfwd=tcp:0.0.0.0:{hostPort}-:22", qemuLine, StringComparison.Ordinal);
            Assert.DoesNotContain("-nic none", qemuLine, StringComparison.Ordinal);
            using (var tcp = new System.Net.Sockets.TcpClient())
                await tcp.ConnectAsync(System.Net.IPAddress.Loopback, hostPort);
            Step($"NIC {mac} on the host, guest port 22 forwarded from host port {hostPort}");

            // The guest itself sees the NIC (virtio_net in the initramfs; /init leases the NIC's private IP from slirp's
            // DHCP) and opens its token: encrypted by the service to a vTPM key bound to the attested PCRs, delivered over
            // the guest channel after the pass, decrypted by the guest agent with TPM2_RSA_Decrypt and AES-256-GCM.
            string consoleLog = PlatformHome.RunRecord(vmId)!.ConsoleLog;
            Assert.True(await EventuallyAsync(() => Task.FromResult(File.ReadAllText(consoleLog).Contains("TL-GUEST: token=", StringComparison.Ordinal))),
                $"the guest never stored a bound token\n{File.ReadAllText(consoleLog)}\n{home.Logs()}");
            string guestConsole = File.ReadAllText(consoleLog);
            Assert.Contains($"TL-GUEST: nic={mac.Replace('-', ':').ToLowerInvariant()} 10.1.0.4", guestConsole, StringComparison.Ordinal);
            Step("the guest saw its NIC's MAC and private IP, and opened its vTPM-bound token");

            ToolResult second = home.TlProcess(TimeSpan.FromMinutes(10), deploy);
            Assert.True(second.ExitCode == 0, second.ToString());
            JsonElement operations = home.TlJson("deployment", "operation", "group", "list", "-g", Group, "-n", "azuredeploy");
            Assert.Equal(7, operations.GetArrayLength());
            Assert.All(operations.EnumerateArray(), o => Assert.True(o.GetProperty("properties").GetProperty("trustedLaunchExtensions").GetProperty("unchanged").GetBoolean()));
            JsonElement after = home.TlJson("vm", "show", "-g", Group, "-n", Vm);
            Assert.Equal(vm.GetProperty("etag").GetString(), after.GetProperty("etag").GetString());
            Assert.Equal(qemu, PlatformHome.RunRecord(vmId)!.Qemu!.Value.Pid);
            Step("redeployed: nothing changed");

            // An NSG change reaches the running VM at once (QMP hostfwd_add / hostfwd_remove, no restart): a new Allow rule
            // opens its host port, removing the rule closes it again.
            int added = await ChangeNsgAsync(home.Url, nic, allow8080: true);
            Assert.True(await EventuallyAsync(() => ConnectsAsync(added)), $"host port {added} (guest 8080) never opened\n{home.Logs()}");
            Assert.Equal(0, await ChangeNsgAsync(home.Url, nic, allow8080: false));
            Assert.True(await EventuallyAsync(async () => !await ConnectsAsync(added)), $"host port {added} stayed open\n{home.Logs()}");
            Assert.True(await ConnectsAsync(hostPort));
            Assert.Equal(qemu, PlatformHome.RunRecord(vmId)!.Qemu!.Value.Pid);
            Step($"NSG rule for 8080 added (host port {added} opened) and removed (closed) while the VM ran");

            Assert.Equal(0, home.Tl("group", "delete", "-n", Group, "--yes").ExitCode);
            Assert.Empty(PlatformHome.ProcessesOf(vmId));
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    // Adds (or removes) an inbound Allow rule for TCP 8080 on the NIC's NSG; answers the host port the NIC then shows for
    // guest port 8080 (0 when none).
    private static async Task<int> ChangeNsgAsync(string url, JsonElement nic, bool allow8080)
    {
        using var http = new HttpClient();
        string nsgId = nic.GetProperty("properties").GetProperty("networkSecurityGroup").GetProperty("id").GetString()!;
        var nsg = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync(new Uri($"{url}{nsgId}?api-version=2023-09-01")))!.AsObject();
        var rules = nsg["properties"]!["securityRules"]!.AsArray();
        foreach (System.Text.Json.Nodes.JsonNode? rule in rules.Where(r => r!["name"]!.GetValue<string>() == "Allow8080").ToArray())
            rules.Remove(rule);
        if (allow8080)
        {
            rules.Add(System.Text.Json.Nodes.JsonNode.Parse("""
                {"name": "Allow8080", "properties": {"priority": 1010, "protocol": "Tcp", "access": "Allow", "direction": "Inbound",
                  "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "8080"}}
                """));
        }

        using var body = new StringContent(nsg.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        HttpResponseMessage put = await http.PutAsync(new Uri($"{url}{nsgId}?api-version=2023-09-01"), body);
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        string nicId = nic.GetProperty("id").GetString()!;
        JsonElement now = JsonDocument.Parse(await http.GetStringAsync(new Uri($"{url}{nicId}?api-version=2023-09-01"))).RootElement;
        return now.GetProperty("properties").GetProperty("trustedLaunchExtensions").GetProperty("hostForwards").EnumerateArray()
            .Where(f => f.GetProperty("guestPort").GetInt32() == 8080).Select(f => f.GetProperty("hostPort").GetInt32()).FirstOrDefault();
    }

    private static async Task<bool> ConnectsAsync(int port)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        try
        {
            await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        for (int i = 0; i < 150; i++)
        {
            if (await condition())
                return true;
            await Task.Delay(200);
        }

        return false;
    }
}
