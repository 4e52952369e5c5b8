using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Vm;

/// <summary>
/// <c>tl vmss</c> and <c>tl vm update</c> against a real control plane in this process (no host registered, so nothing
/// boots and instances wait for one): the Azure body the flags make, ARM's refusals (exit 2), scaling and deleting.
/// </summary>
public sealed class VmssCliTests : IAsyncLifetime
{
    private readonly string _data = RepositoryPaths.NewTempDirectory("tl-vmss-cli");
    private WebApplication _app = null!;
    private string _url = null!;

    public async Task InitializeAsync()
    {
        _app = AttestationServiceHost.Build(new AttestationServiceOptions { DataDirectory = _data, Listen = "http://127.0.0.1:0" },
            configureLogging: logging => { });
        await _app.StartAsync();
        _url = AttestationServiceHost.BoundAddresses(_app.Services)[0];
        await _app.Services.GetRequiredService<IImageStore>().SaveAsync(new ImageEntry
        {
            Publisher = "Debian", Offer = "debian-12", Sku = "12-gen2", Version = new ImageVersion(12, 1, 0), FilePath = "/images/12-gen2.raw",
            Generation = HyperVGeneration.V2, SecureBoot = new SecureBootFinding(null, "test"), RegisteredAt = DateTimeOffset.UnixEpoch,
        }, default);
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private ToolResult Tl(params string[] args) => TlRun.InProcess([.. args, "--server", _url]);

    [Fact]
    public void Create_NoWait_AzureBodyFromTheFlags_ListInstancesScaleDelete()
    {
        Assert.Equal(0, Tl("group", "create", "-n", "rg1", "-l", "westus").ExitCode);

        ToolResult created = Tl("vmss", "create", "-g", "rg1", "-n", "web", "--image", "debian-12", "--vm-sku", "Standard_B2s", "--instance-count", "2",
            "--orchestration-mode", "Flexible", "--security-type", "TrustedLaunch", "--enable-secure-boot", "true", "--enable-vtpm", "true", "--no-wait");

        Assert.True(created.ExitCode == 0, created.ToString());
        JsonElement scaleSet = JsonDocument.Parse(created.StandardOutput).RootElement;
        Assert.Equal(("Standard_B2s", 2L), (scaleSet.GetProperty("sku").GetProperty("name").GetString(), scaleSet.GetProperty("sku").GetProperty("capacity").GetInt64()));
        JsonElement properties = scaleSet.GetProperty("properties");
        Assert.Equal("Flexible", properties.GetProperty("orchestrationMode").GetString());
        Assert.Equal(1, properties.GetProperty("platformFaultDomainCount").GetInt32());
        Assert.Equal("Creating", properties.GetProperty("provisioningState").GetString());
        JsonElement security = properties.GetProperty("virtualMachineProfile").GetProperty("securityProfile");
        Assert.Equal("TrustedLaunch", security.GetProperty("securityType").GetString());
        Assert.True(security.GetProperty("uefiSettings").GetProperty("vTpmEnabled").GetBoolean());

        ToolResult instances = Tl("vmss", "list-instances", "-g", "rg1", "-n", "web", "-o", "table");
        Assert.True(instances.ExitCode == 0, instances.ToString());
        Assert.Equal(2, instances.StandardOutput.Split('\n').Count(l => l.StartsWith("web_", StringComparison.Ordinal)));
        Assert.Contains("TrustedLaunch", instances.StandardOutput, StringComparison.Ordinal);
        ToolResult table = Tl("vmss", "list", "-g", "rg1", "-o", "table");
        Assert.Contains("Flexible", table.StandardOutput, StringComparison.Ordinal);

        // The create waits for a host, so a scale is refused meanwhile; a delete takes the unplaced instances at once.
        ToolResult busy = Tl("vmss", "scale", "-g", "rg1", "-n", "web", "--new-capacity", "1");
        Assert.Equal(2, busy.ExitCode); // the create still waits for a host
        Assert.Contains("(AnotherOperationInProgress)", busy.StandardError, StringComparison.Ordinal);
        Assert.Equal(0, Tl("vmss", "delete", "-g", "rg1", "-n", "web", "--yes").ExitCode);
        Assert.Equal(2, Tl("vmss", "show", "-g", "rg1", "-n", "web").ExitCode);
        Assert.Empty(JsonDocument.Parse(Tl("vm", "list", "-g", "rg1").StandardOutput).RootElement.EnumerateArray());
    }

    [Fact]
    public void Create_Uniform_RefusedExit2()
    {
        Assert.Equal(0, Tl("group", "create", "-n", "rg2", "-l", "westus").ExitCode);

        ToolResult refused = Tl("vmss", "create", "-g", "rg2", "-n", "uni", "--image", "debian-12", "--orchestration-mode", "Uniform");

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("(OrchestrationModeNotSupported) Orchestration mode 'Uniform' is not offered on this platform", refused.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void VmUpdate_SecurityTypeOfAVmThatWaitsForAHost_RefusedUntilDeallocated_NothingToUpdateIsBadInput()
    {
        Assert.Equal(0, Tl("group", "create", "-n", "rg3", "-l", "westus").ExitCode);
        Assert.Equal(0, Tl("vm", "create", "-g", "rg3", "-n", "std", "--image", "debian-12", "--size", "Standard_B2s", "--security-type", "Standard",
            "--no-wait").ExitCode);

        ToolResult refused = Tl("vm", "update", "-g", "rg3", "-n", "std", "--security-type", "TrustedLaunch", "--enable-secure-boot", "false");
        ToolResult nothing = Tl("vm", "update", "-g", "rg3", "-n", "std");

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("(AnotherOperationInProgress)", refused.StandardError, StringComparison.Ordinal); // its create still waits for a host
        Assert.Equal((int)ExitCode.BadInput, nothing.ExitCode);
        Assert.Contains("Nothing to update", nothing.StandardError, StringComparison.Ordinal);
    }
}
