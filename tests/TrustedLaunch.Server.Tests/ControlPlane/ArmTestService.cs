using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Tests.Http;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>One HTTP answer: status, headers and JSON body (default when empty).</summary>
public sealed record ArmAnswer(HttpStatusCode Status, JsonElement Body, HttpResponseHeaders Headers, HttpContentHeaders? ContentHeaders)
{
    public string? Header(string name) => Headers.TryGetValues(name, out IEnumerable<string>? values) ? values.First() : null;

    public string ErrorCode => Body.GetProperty("error").GetProperty("code").GetString()!;

    public JsonElement Error => Body.GetProperty("error");

    public override string ToString() => $"{(int)Status} {Body}";
}

/// <summary>
/// The real service (Kestrel on 127.0.0.1) with the control plane, its default subscription, and two registered
/// platform images: Debian/debian-12/12-gen2 (V2) and Debian/debian-12/12 (V1), plus a stored reference policy.
/// Tests share one instance per class and use their own resource groups.
/// </summary>
public class ArmTestService : IAsyncLifetime
{
    public const string ApiVersion = "2024-07-01";
    public const string Gen2Sku = "12-gen2";
    public const string Gen1Sku = "12";
    public const string PolicyName = "strict";

    private int _names;

    public ServiceUnderTest Service { get; private set; } = null!;

    public string SubscriptionId { get; private set; } = null!;

    protected virtual ControlPlaneOptions Options => new();

    /// <summary>The platform CA the service trusts for VMs registered without their own (none by default).</summary>
    protected virtual string? CaDirectory => null;

    /// <summary>Further service options (posture tests shorten the intervals).</summary>
    protected virtual AttestationServiceOptions Configure(AttestationServiceOptions options) => options;

    public virtual async Task InitializeAsync()
    {
        Service = await ServiceUnderTest.StartAsync(CaDirectory, o => Configure(o with { ControlPlane = Options }));
        ArmAnswer subscriptions = await SendAsync(HttpMethod.Get, $"/subscriptions?api-version=2022-12-01");
        SubscriptionId = subscriptions.Body.GetProperty("value")[0].GetProperty("subscriptionId").GetString()!;
        IImageStore images = Service.Service<IImageStore>();
        await images.SaveAsync(Image(Gen2Sku, "1.0.0", HyperVGeneration.V2), default);
        await images.SaveAsync(Image(Gen2Sku, "1.1.0", HyperVGeneration.V2), default);
        await images.SaveAsync(Image(Gen1Sku, "1.0.0", HyperVGeneration.V1), default);
        await Service.Service<IPolicyStore>().SaveAsync(new StoredPolicy(PolicyName, "{\"name\":\"strict\"}", Service.Clock.GetUtcNow()), default);
    }

    public async Task DisposeAsync() => await Service.DisposeAsync();

    /// <summary>A fresh name for a resource group or VM, unique within the service.</summary>
    public string NewName(string prefix) => $"{prefix}{Interlocked.Increment(ref _names)}";

    public string GroupPath(string group) => $"/subscriptions/{SubscriptionId}/resourceGroups/{group}";

    public string VmPath(string group, string vm) => $"{GroupPath(group)}/providers/Microsoft.Compute/virtualMachines/{vm}";

    public static string WithApi(string path, string apiVersion = ApiVersion) => path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "api-version=" + apiVersion;

    public async Task<string> CreateGroupAsync(string? name = null, JsonObject? tags = null)
    {
        name ??= NewName("rg");
        ArmAnswer created = await SendAsync(HttpMethod.Put, WithApi(GroupPath(name), "2021-04-01"), new JsonObject { ["location"] = "westus", ["tags"] = tags });
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        return name;
    }

    /// <summary>A VM body as az/templates write it: TL-capable size, the Gen2 image, a managed OS disk; no securityProfile.</summary>
    public static JsonObject VmBody(string sku = Gen2Sku, string size = "Standard_D2s_v3") => new()
    {
        ["location"] = "westus",
        ["tags"] = new JsonObject { ["env"] = "test" },
        ["properties"] = new JsonObject
        {
            ["hardwareProfile"] = new JsonObject { ["vmSize"] = size },
            ["storageProfile"] = new JsonObject
            {
                ["imageReference"] = new JsonObject { ["publisher"] = "Debian", ["offer"] = "debian-12", ["sku"] = sku, ["version"] = "latest" },
                ["osDisk"] = new JsonObject
                {
                    ["createOption"] = "FromImage",
                    ["managedDisk"] = new JsonObject { ["storageAccountType"] = "Premium_LRS" },
                    ["deleteOption"] = "Delete",
                },
            },
            ["osProfile"] = new JsonObject { ["computerName"] = "web01", ["adminUsername"] = "azureuser", ["adminPassword"] = "never-stored-1A!" },
            ["networkProfile"] = new JsonObject { ["networkInterfaces"] = new JsonArray() },
        },
    };

    public static JsonObject TrustedLaunch(bool? secureBoot = true, bool? vTpm = true)
    {
        var uefi = new JsonObject();
        if (secureBoot is bool sb)
            uefi["secureBootEnabled"] = sb;
        if (vTpm is bool tpm)
            uefi["vTpmEnabled"] = tpm;
        return new JsonObject { ["securityType"] = "TrustedLaunch", ["uefiSettings"] = uefi };
    }

    public Task<ArmAnswer> PutVmAsync(string group, string vm, JsonObject body, string apiVersion = ApiVersion, params (string Name, string Value)[] headers) =>
        SendAsync(HttpMethod.Put, WithApi(VmPath(group, vm), apiVersion), body, headers);

    public Task<ArmAnswer> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public async Task<ArmAnswer> SendAsync(HttpMethod method, string path, JsonNode? body = null, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        foreach ((string name, string value) in headers)
            request.Headers.TryAddWithoutValidation(name, value);
        using HttpResponseMessage response = await Service.Client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        JsonElement json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new ArmAnswer(response.StatusCode, json, response.Headers, response.Content.Headers);
    }

    /// <summary>The path and query of an absolute URL this server handed out (Azure-AsyncOperation, Location, nextLink).</summary>
    public string Local(string absolute)
    {
        var uri = new Uri(absolute);
        Assert.Equal(Service.BaseAddress.Authority, uri.Authority);
        return uri.PathAndQuery;
    }

    private static ImageEntry Image(string sku, string version, HyperVGeneration generation) => new()
    {
        Publisher = "Debian",
        Offer = "debian-12",
        Sku = sku,
        Version = ImageVersion.TryParse(version, out ImageVersion v) ? v : default,
        FilePath = $"/var/lib/trustedlaunch/images/debian-12-{sku}-{version}.qcow2",
        Generation = generation,
        SecureBoot = generation == HyperVGeneration.V2 ? new SecureBootFinding(true, "allowed") : new SecureBootFinding(null, "BIOS"),
        RegisteredAt = DateTimeOffset.UnixEpoch,
    };
}
