using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Vm;

/// <summary>
/// <c>tl group</c> and <c>tl vm</c> against a real control plane in this process (no host registered, so nothing boots): the
/// Azure body the flags make, ARM's refusals printed with their code and message (exit 2), tables, and an unreachable
/// service (exit 3).
/// </summary>
public sealed class VmCliTests : IAsyncLifetime
{
    private readonly string _data = RepositoryPaths.NewTempDirectory("tl-vm-cli");
    private WebApplication _app = null!;
    private string _url = null!;

    public async Task InitializeAsync()
    {
        _app = AttestationServiceHost.Build(new AttestationServiceOptions { DataDirectory = _data, Listen = "http://127.0.0.1:0" },
            configureLogging: logging => { });
        await _app.StartAsync();
        _url = AttestationServiceHost.BoundAddresses(_app.Services)[0];
        IImageStore images = _app.Services.GetRequiredService<IImageStore>();
        foreach ((string sku, HyperVGeneration generation) in new[] { ("12-gen2", HyperVGeneration.V2), ("12", HyperVGeneration.V1) })
        {
            await images.SaveAsync(new ImageEntry
            {
                Publisher = "Debian", Offer = "debian-12", Sku = sku, Version = new ImageVersion(12, 1, 0), FilePath = "/images/" + sku + ".raw",
                Generation = generation, SecureBoot = new SecureBootFinding(null, "test"), RegisteredAt = DateTimeOffset.UnixEpoch,
            }, default);
        }
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private ToolResult Tl(params string[] args) => TlRun.InProcess([.. args, "--server", _url]);

    [Fact]
    public void Create_Gen1ImageWithTrustedLaunch_AzureRefusalExit2_NothingCreated()
    {
        Assert.Equal(0, Tl("group", "create", "-n", "rg1").ExitCode);

        ToolResult refused = Tl("vm", "create", "-g", "rg1", "-n", "vm1", "--image", "debian-12-gen1", "--size", "Standard_B1s",
            "--security-type", "TrustedLaunch", "--enable-secure-boot", "true", "--enable-vtpm", "true", "--ultra-ssd-enabled", "true");

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("tl: (MultipleErrorsOccurred)", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("(TrustedLaunchImageNotSupported) Use of TrustedLaunch setting is not supported for the provided image.", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("(UltraSSDNotSupportedWithTrustedLaunch)", refused.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, Tl("vm", "show", "-g", "rg1", "-n", "vm1").ExitCode);
    }

    [Fact]
    public void Create_NoWait_AzureBodyFromTheFlags_ThenListShowDelete()
    {
        Assert.Equal(0, Tl("group", "create", "-n", "rg2", "-l", "westus").ExitCode);

        ToolResult created = Tl("vm", "create", "-g", "rg2", "-n", "web", "--image", "debian-12", "--size", "Standard_B2s",
            "--security-type", "TrustedLaunch", "--enable-secure-boot", "true", "--enable-vtpm", "true", "--attestation-interval", "30",
            "--os-disk-delete-option", "Delete", "--no-wait");
        ToolResult table = Tl("vm", "list", "-g", "rg2", "-o", "table");
        ToolResult deleted = Tl("vm", "delete", "-g", "rg2", "-n", "web", "--yes");

        Assert.True(created.ExitCode == 0, created.ToString());
        JsonElement vm = JsonDocument.Parse(created.StandardOutput).RootElement;
        JsonElement properties = vm.GetProperty("properties");
        Assert.Equal("westus", vm.GetProperty("location").GetString());
        Assert.Equal("Creating", properties.GetProperty("provisioningState").GetString());
        Assert.Equal("12.1.0", properties.GetProperty("storageProfile").GetProperty("imageReference").GetProperty("exactVersion").GetString());
        Assert.Equal("Delete", properties.GetProperty("storageProfile").GetProperty("osDisk").GetProperty("deleteOption").GetString());
        Assert.Equal(30, properties.GetProperty("trustedLaunchExtensions").GetProperty("attestationIntervalSeconds").GetInt32());
        Assert.Equal("web", properties.GetProperty("osProfile").GetProperty("computerName").GetString());
        string[] lines = table.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("Name", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("----", lines[1], StringComparison.Ordinal);
        Assert.Matches(@"^web\s+rg2\s+westus\s+Standard_B2s\s+TrustedLaunch\s+Creating", lines[2]);
        Assert.Equal(0, deleted.ExitCode); // never placed (no host): gone at once
        Assert.Equal(2, Tl("vm", "show", "-g", "rg2", "-n", "web").ExitCode);
    }

    [Fact]
    public void Identity_StandardVm_409PrintedAsArmError()
    {
        Assert.Equal(0, Tl("group", "create", "-n", "rg3").ExitCode);
        Assert.Equal(0, Tl("vm", "create", "-g", "rg3", "-n", "std", "--image", "debian-12", "--size", "Standard_B1s", "--security-type", "Standard", "--no-wait").ExitCode);

        ToolResult identity = Tl("vm", "identity", "-g", "rg3", "-n", "std");
        ToolResult attest = Tl("vm", "attest", "-g", "rg3", "-n", "std");

        Assert.Equal(2, identity.ExitCode);
        Assert.Contains("tl: (OperationNotAllowed) VM 'std' has no vTPM", identity.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, attest.ExitCode);
    }

    [Fact]
    public void AnyCommand_NoControlPlane_Exit3NamingTheUrl()
    {
        ToolResult result = TlRun.InProcess("vm", "list", "--server", "http://127.0.0.1:9");

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("http://127.0.0.1:9", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_BadImage_Exit2BeforeAnyRequest()
    {
        ToolResult result = Tl("vm", "create", "-g", "rg", "-n", "x", "--image", "not-an-image");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("neither an alias", result.StandardError, StringComparison.Ordinal);
    }
}
