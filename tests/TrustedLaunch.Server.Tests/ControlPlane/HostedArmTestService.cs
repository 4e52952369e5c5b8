using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>An <see cref="ArmTestService"/> with one large registered host (256 vCPUs, 1 TiB) that converges VMs when told to.</summary>
public sealed class HostedArmTestService : ArmTestService
{
    public FakeHost Host { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Host = new FakeHost(this, "host1");
        await Host.RegisterAsync(vCpus: 256, memoryInMB: 1024 * 1024);
    }

    /// <summary>PUT a VM and let the host bring it to running; answers the VM as GET shows it then.</summary>
    public async Task<JsonElement> CreateRunningAsync(string group, string name, JsonObject? body = null)
    {
        ArmAnswer created = await PutVmAsync(group, name, body ?? VmBody());
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        await Host.ConvergeAsync();
        ArmAnswer vm = await GetAsync(WithApi(VmPath(group, name)));
        Assert.Equal("Succeeded", vm.Body.GetProperty("properties").GetProperty("provisioningState").GetString());
        return vm.Body;
    }

    /// <summary>POST an action and let the host converge it.</summary>
    public async Task ActAsync(string group, string name, string action)
    {
        ArmAnswer accepted = await SendAsync(HttpMethod.Post, WithApi(VmPath(group, name) + "/" + action));
        Assert.True(accepted.Status == HttpStatusCode.Accepted, accepted.ToString());
        await Host.ConvergeAsync();
    }

    public static string TestCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=TrustedLaunch test db", key, HashAlgorithmName.SHA256);
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddYears(100));
        return Convert.ToBase64String(certificate.RawData);
    }
}
