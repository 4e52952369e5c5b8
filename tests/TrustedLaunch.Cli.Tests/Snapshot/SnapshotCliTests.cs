using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Snapshot;

/// <summary>
/// <c>tl snapshot</c> and <c>tl vm create --attach-os-disk</c> against a real control plane in this process (no host, so nothing
/// is copied or booted): ARM's refusals with their code and message (exit 2), the usage rule of <c>--image</c>/<c>--attach-os-disk</c>.
/// </summary>
public sealed class SnapshotCliTests : IAsyncLifetime
{
    private readonly string _data = RepositoryPaths.NewTempDirectory("tl-snapshot-cli");
    private WebApplication _app = null!;
    private string _url = null!;

    public async Task InitializeAsync()
    {
        _app = AttestationServiceHost.Build(new AttestationServiceOptions { DataDirectory = _data, Listen = "http://127.0.0.1:0" }, configureLogging: logging => { });
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
    public void Create_OfAVmWithoutItsDiskYet_RefusedExit2_AndNothingListed()
    {
        Assert.Equal(0, Tl("group", "create", "-n", "rg1").ExitCode);
        Assert.Equal(0, Tl("vm", "create", "-g", "rg1", "-n", "vm1", "--image", "debian-12", "--size", "Standard_B1s", "--no-wait").ExitCode);

        ToolResult refused = Tl("snapshot", "create", "-g", "rg1", "-n", "snap1", "--source", "vm1");
        ToolResult missingVm = Tl("snapshot", "create", "-g", "rg1", "-n", "snap2", "--source", "nosuch");
        ToolResult list = Tl("snapshot", "list", "-g", "rg1", "-o", "json");
        ToolResult show = Tl("snapshot", "show", "-g", "rg1", "-n", "snap1");

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("tl: (OperationNotAllowed) Operation 'snapshot' is not allowed on virtual machine vm1", refused.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, missingVm.ExitCode);
        Assert.Contains("(ResourceNotFound)", missingVm.StandardError, StringComparison.Ordinal);
        Assert.Equal(0, list.ExitCode);
        Assert.Equal("[]", list.StandardOutput.Trim());
        Assert.Equal(2, show.ExitCode);
    }

    [Fact]
    public void VmCreate_AttachOsDisk_UsageAndAMissingSnapshot()
    {
        Assert.Equal(0, Tl("group", "create", "-n", "rg2").ExitCode);

        ToolResult both = Tl("vm", "create", "-g", "rg2", "-n", "vm1", "--image", "debian-12", "--attach-os-disk", "snap1");
        ToolResult neither = Tl("vm", "create", "-g", "rg2", "-n", "vm1");
        ToolResult missing = Tl("vm", "create", "-g", "rg2", "-n", "vm1", "--attach-os-disk", "nosuch", "--size", "Standard_B1s");

        Assert.Equal(2, both.ExitCode);
        Assert.Contains("Give exactly one of --image and --attach-os-disk.", both.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, neither.ExitCode);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("(ResourceNotFound) The Resource 'Microsoft.Compute/snapshots/nosuch' under resource group 'rg2' was not found", missing.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, Tl("vm", "show", "-g", "rg2", "-n", "vm1").ExitCode);
    }
}
