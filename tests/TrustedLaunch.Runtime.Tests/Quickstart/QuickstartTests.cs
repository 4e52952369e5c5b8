using System.Text.Json;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Runtime.GuestState;
using TrustedLaunch.Runtime.Tests.Boot;
using TrustedLaunch.Runtime.Tests.GuestState;
using TrustedLaunch.Testing;
using Xunit.Abstractions;

namespace TrustedLaunch.Runtime.Tests.Quickstart;

/// <summary>
/// <c>tl quickstart --json</c> end to end in its own TL_HOME (kept between runs, so the image, the published guest agent
/// and the Debian packages are reused): a new VM boots with Trusted Launch and attests through its guest agent.
/// </summary>
[Collection(BootGroup.Name)]
[IntegrationTest]
public sealed class QuickstartTests(ITestOutputHelper output)
{
    [Fact]
    public void Quickstart_FreshVm_BootsAttestsAndReportsTheMeasuredChain()
    {
        string home = Path.Combine(Path.GetTempPath(), "tl-test-quickstart-home");
        ToolResult run = ExternalTool.Run("dotnet", [VmgsVm.TlDll, "quickstart", "--json", "--memory", "768"],
            environment: new Dictionary<string, string> { [TlHome.EnvironmentVariable] = home }, timeout: TimeSpan.FromMinutes(20));
        output.WriteLine(run.StandardError);
        Assert.True(run.ExitCode == 0, run.ToString());
        JsonElement report = JsonDocument.Parse(run.StandardOutput).RootElement;
        var vmId = Guid.Parse(report.GetProperty("vmId").GetString()!);
        string vmDirectory = report.GetProperty("vmDirectory").GetString()!;
        try
        {
            JsonElement verdict = report.GetProperty("verdict");
            Assert.Equal("booted", verdict.GetProperty("outcome").GetString());
            JsonElement facts = verdict.GetProperty("guestFacts");
            Assert.Equal("enabled", facts.GetProperty("secure-boot").GetString());
            Assert.Equal("2.0", facts.GetProperty("tpm").GetString());
            Assert.StartsWith("rejected ttyprintk", facts.GetProperty("module-unsigned").GetString(), StringComparison.Ordinal);
            Assert.Equal(vmId.ToString(), facts.GetProperty("product-uuid").GetString(), ignoreCase: true);
            Assert.Contains(report.GetProperty("vTpm").EnumerateArray(), k => k.GetProperty("role").GetString() == "ak-rsa2048"
                && k.GetProperty("issuer").GetString()!.Contains("AK", StringComparison.OrdinalIgnoreCase));

            JsonElement attestation = report.GetProperty("attestation");
            Assert.True(attestation.GetProperty("passed").GetBoolean(), attestation.ToString());
            JsonElement boot = attestation.GetProperty("result").GetProperty("bootState");
            Assert.True(boot.GetProperty("secureBootEnabled").GetBoolean());
            string[] chain = [.. boot.GetProperty("bootChain").EnumerateArray().Select(c => c.GetProperty("name").GetString()!.ToLowerInvariant())];
            Assert.Contains(chain, n => n.Contains("shim", StringComparison.Ordinal) || n.Contains("bootx64", StringComparison.Ordinal));
            Assert.Contains(chain, n => n.Contains("grub", StringComparison.Ordinal));
            JsonElement claims = attestation.GetProperty("tokenClaims");
            Assert.Equal(vmId.ToString(), claims.GetProperty("x-ms-azurevm-vmid").GetString(), ignoreCase: true);
            Assert.True(claims.GetProperty("secureboot").GetBoolean());

            // The VM's guest state is left behind in TL_HOME, complete and keyed by its own KEK.
            VmgsGuestState state = VmgsGuestState.Open(Path.Combine(vmDirectory, "vm.vmgs"), Path.Combine(vmDirectory, "host.kek"));
            Assert.Equal(vmId.ToString(), state.VmId);
        }
        finally
        {
            Directory.Delete(vmDirectory, recursive: true);
        }
    }
}
