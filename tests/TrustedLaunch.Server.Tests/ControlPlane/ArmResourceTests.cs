using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>Subscriptions, resource groups, api-version, names, headers and the ARM shapes, with no host registered.</summary>
public sealed class ArmResourceTests(ArmTestService arm) : IClassFixture<ArmTestService>
{
    [Fact]
    public async Task Subscriptions_DefaultCreatedAtFirstStart_ListedAndKeptAcrossRestart()
    {
        ArmAnswer list = await arm.GetAsync("/subscriptions?api-version=2022-12-01");
        ArmAnswer one = await arm.GetAsync($"/subscriptions/{arm.SubscriptionId}?api-version=2022-12-01");

        JsonElement subscription = Assert.Single(list.Body.GetProperty("value").EnumerateArray().ToArray());
        Assert.Equal($"/subscriptions/{arm.SubscriptionId}", subscription.GetProperty("id").GetString());
        Assert.Equal("Enabled", subscription.GetProperty("state").GetString());
        Assert.True(Guid.TryParse(arm.SubscriptionId, out _));
        Assert.Equal(HttpStatusCode.OK, one.Status);
        Assert.Equal(arm.SubscriptionId, one.Body.GetProperty("subscriptionId").GetString());
    }

    [Fact]
    public async Task Subscription_UnknownOrMalformed_404Or400()
    {
        ArmAnswer unknown = await arm.GetAsync($"/subscriptions/{Guid.NewGuid()}/resourcegroups?api-version=2021-04-01");
        ArmAnswer malformed = await arm.GetAsync("/subscriptions/not-a-guid/resourcegroups?api-version=2021-04-01");

        Assert.Equal((HttpStatusCode.NotFound, "SubscriptionNotFound"), (unknown.Status, unknown.ErrorCode));
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidSubscriptionId"), (malformed.Status, malformed.ErrorCode));
    }

    [Fact]
    public async Task ApiVersion_MissingOrUnknown_ArmsRefusalWithTheSupportedList()
    {
        string vm = arm.VmPath(await arm.CreateGroupAsync(), "vm1");

        ArmAnswer missing = await arm.GetAsync(vm);
        ArmAnswer unknown = await arm.GetAsync(vm + "?api-version=2019-07-01");
        ArmAnswer group = await arm.GetAsync($"/subscriptions/{arm.SubscriptionId}/resourcegroups?api-version=2099-01-01");

        Assert.Equal((HttpStatusCode.BadRequest, "MissingApiVersionParameter"), (missing.Status, missing.ErrorCode));
        Assert.Equal("The api-version query parameter (?api-version=) is required for all requests.", missing.Error.GetProperty("message").GetString());
        Assert.Equal((HttpStatusCode.BadRequest, "NoRegisteredProviderFound"), (unknown.Status, unknown.ErrorCode));
        Assert.Contains("The supported api-versions are '2026-04-01, 2026-03-01, 2025-11-01, 2025-04-01, 2024-11-01, 2024-07-01,",
            unknown.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidApiVersionParameter"), (group.Status, group.ErrorCode));
    }

    [Fact]
    public async Task ResourceGroup_PutGetListHeadDelete_ArmShapes()
    {
        string name = arm.NewName("Group");
        string path = arm.GroupPath(name);

        ArmAnswer created = await arm.SendAsync(HttpMethod.Put, path + "?api-version=2021-04-01",
            new JsonObject { ["location"] = "West US", ["tags"] = new JsonObject { ["team"] = "a" } });
        ArmAnswer again = await arm.SendAsync(HttpMethod.Put, path.ToLowerInvariant().Replace("resourcegroups", "RESOURCEGROUPS", StringComparison.Ordinal) + "?api-version=2021-04-01",
            new JsonObject { ["location"] = "westus" });
        ArmAnswer got = await arm.GetAsync(path.Replace("resourceGroups", "resourcegroups", StringComparison.Ordinal) + "?api-version=2025-04-01");
        ArmAnswer list = await arm.GetAsync($"/subscriptions/{arm.SubscriptionId}/resourcegroups?api-version=2021-04-01");
        ArmAnswer head = await arm.SendAsync(HttpMethod.Head, path + "?api-version=2021-04-01");
        ArmAnswer moved = await arm.SendAsync(HttpMethod.Put, path + "?api-version=2021-04-01", new JsonObject { ["location"] = "eastus" });

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("\"1\"", created.Headers.ETag?.Tag);
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal("\"2\"", again.Headers.ETag?.Tag);
        Assert.Equal($"/subscriptions/{arm.SubscriptionId}/resourceGroups/{name}", got.Body.GetProperty("id").GetString());
        Assert.Equal(name, got.Body.GetProperty("name").GetString());
        Assert.Equal("Microsoft.Resources/resourceGroups", got.Body.GetProperty("type").GetString());
        Assert.Equal("westus", got.Body.GetProperty("location").GetString());
        Assert.Equal("Succeeded", got.Body.GetProperty("properties").GetProperty("provisioningState").GetString());
        Assert.Contains(list.Body.GetProperty("value").EnumerateArray(), g => g.GetProperty("name").GetString() == name);
        Assert.Equal(HttpStatusCode.NoContent, head.Status);
        Assert.Equal((HttpStatusCode.Conflict, "InvalidResourceGroupLocation"), (moved.Status, moved.ErrorCode));

        ArmAnswer deleted = await arm.SendAsync(HttpMethod.Delete, path + "?api-version=2021-04-01");
        Assert.Equal(HttpStatusCode.Accepted, deleted.Status);
        ArmAnswer monitor = await arm.GetAsync(arm.Local(deleted.Headers.Location!.ToString()));
        Assert.Equal(HttpStatusCode.OK, monitor.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await arm.SendAsync(HttpMethod.Head, path + "?api-version=2021-04-01")).Status);
        Assert.Equal("ResourceGroupNotFound", (await arm.GetAsync(path + "?api-version=2021-04-01")).ErrorCode);
    }

    [Theory]
    [InlineData("bad name")]
    [InlineData("ends.")]
    public async Task ResourceGroup_InvalidName_400(string name)
    {
        ArmAnswer answer = await arm.SendAsync(HttpMethod.Put, $"/subscriptions/{arm.SubscriptionId}/resourcegroups/{Uri.EscapeDataString(name)}?api-version=2021-04-01",
            new JsonObject { ["location"] = "westus" });

        Assert.Equal((HttpStatusCode.BadRequest, "InvalidResourceGroup"), (answer.Status, answer.ErrorCode));
    }

    [Fact]
    public async Task ResourceGroup_DeleteWithVms_DeletesThemAndThenItself()
    {
        string group = await arm.CreateGroupAsync();
        Assert.Equal(HttpStatusCode.Created, (await arm.PutVmAsync(group, "a1", ArmTestService.VmBody())).Status);
        Assert.Equal(HttpStatusCode.Created, (await arm.PutVmAsync(group, "a2", ArmTestService.VmBody())).Status);

        ArmAnswer deleted = await arm.SendAsync(HttpMethod.Delete, arm.GroupPath(group) + "?api-version=2021-04-01");
        ArmAnswer monitor = await arm.GetAsync(arm.Local(deleted.Headers.Location!.ToString()));

        Assert.Equal(HttpStatusCode.Accepted, deleted.Status);
        Assert.Equal(HttpStatusCode.OK, monitor.Status);
        Assert.Equal("ResourceGroupNotFound", (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "a1")))).ErrorCode);
    }

    [Fact]
    public async Task Headers_RequestAndCorrelationIds()
    {
        ArmAnswer answer = await arm.SendAsync(HttpMethod.Get, $"/subscriptions/{arm.SubscriptionId}?api-version=2022-12-01", null,
            ("x-ms-correlation-request-id", "corr-1"), ("x-ms-client-request-id", "client-1"), ("x-ms-return-client-request-id", "true"));

        Assert.True(Guid.TryParse(answer.Header("x-ms-request-id"), out _));
        Assert.Equal("corr-1", answer.Header("x-ms-correlation-request-id"));
        Assert.Equal("client-1", answer.Header("x-ms-client-request-id"));
    }

    [Fact]
    public async Task UnknownArmPath_ArmEnvelope404()
    {
        ArmAnswer answer = await arm.GetAsync($"/subscriptions/{arm.SubscriptionId}/providers/Microsoft.Network/virtualNetworks?api-version=2024-07-01");

        Assert.Equal((HttpStatusCode.NotFound, "NotFound"), (answer.Status, answer.ErrorCode));
    }

    [Fact]
    public async Task Sizes_AzureListShapesWithTrustedLaunchDisabledOnlyWhereSo()
    {
        ArmAnswer sizes = await arm.GetAsync($"/subscriptions/{arm.SubscriptionId}/providers/Microsoft.Compute/locations/westus/vmSizes?api-version=2024-07-01");
        ArmAnswer skus = await arm.GetAsync($"/subscriptions/{arm.SubscriptionId}/providers/Microsoft.Compute/skus?api-version=2024-07-01");

        JsonElement b2s = sizes.Body.GetProperty("value").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "Standard_B2s");
        Assert.Equal((2, 4096), (b2s.GetProperty("numberOfCores").GetInt32(), b2s.GetProperty("memoryInMB").GetInt32()));
        JsonElement a4 = skus.Body.GetProperty("value").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "Standard_A4_v2");
        JsonElement d2 = skus.Body.GetProperty("value").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "Standard_D2s_v3");
        Assert.Contains(a4.GetProperty("capabilities").EnumerateArray(), c => c.GetProperty("name").GetString() == "TrustedLaunchDisabled" && c.GetProperty("value").GetString() == "True");
        Assert.DoesNotContain(d2.GetProperty("capabilities").EnumerateArray(), c => c.GetProperty("name").GetString() == "TrustedLaunchDisabled");
    }

    [Fact]
    public async Task Images_ListedAsAzureListsThem()
    {
        string root = $"/subscriptions/{arm.SubscriptionId}/providers/Microsoft.Compute/locations/westus/publishers";

        ArmAnswer publishers = await arm.GetAsync(root + "?api-version=2024-07-01");
        ArmAnswer versions = await arm.GetAsync(root + "/Debian/artifacttypes/vmimage/offers/debian-12/skus/12-gen2/versions?api-version=2024-07-01");
        ArmAnswer version = await arm.GetAsync(root + "/debian/ArtifactTypes/VMImage/offers/debian-12/skus/12-gen2/versions/1.1.0?api-version=2024-07-01");
        ArmAnswer gen1 = await arm.GetAsync(root + "/Debian/artifacttypes/vmimage/offers/debian-12/skus/12/versions/latest?api-version=2024-07-01");
        ArmAnswer missing = await arm.GetAsync(root + "/Debian/artifacttypes/vmimage/offers/debian-12/skus/12/versions/9.9.9?api-version=2024-07-01");

        Assert.Equal("Debian", Assert.Single(publishers.Body.EnumerateArray().ToArray()).GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Array, versions.Body.ValueKind);
        Assert.Equal(["1.0.0", "1.1.0"], versions.Body.EnumerateArray().Select(v => v.GetProperty("name").GetString()));
        Assert.Equal($"/Subscriptions/{arm.SubscriptionId}/Providers/Microsoft.Compute/Locations/westus/Publishers/Debian/ArtifactTypes/VMImage/Offers/debian-12/Skus/12-gen2/Versions/1.0.0",
            versions.Body[0].GetProperty("id").GetString());
        JsonElement properties = version.Body.GetProperty("properties");
        Assert.Equal("V2", properties.GetProperty("hyperVGeneration").GetString());
        Assert.Equal("TrustedLaunchSupported", properties.GetProperty("features")[0].GetProperty("value").GetString());
        Assert.True(properties.GetProperty("secureBootCheck").GetProperty("passes").GetBoolean());
        Assert.Equal("V1", gen1.Body.GetProperty("properties").GetProperty("hyperVGeneration").GetString());
        Assert.Equal(0, gen1.Body.GetProperty("properties").GetProperty("features").GetArrayLength());
        Assert.Equal((HttpStatusCode.NotFound, "NotFound"), (missing.Status, missing.ErrorCode));
    }

    [Fact]
    public async Task OpenApi_DocumentDescribesTheArmApi()
    {
        ArmAnswer document = await arm.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, document.Status);
        JsonElement paths = document.Body.GetProperty("paths");
        JsonElement vm = paths.GetProperty("/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines/{vmName}");
        Assert.Equal("VirtualMachines_CreateOrUpdate", vm.GetProperty("put").GetProperty("operationId").GetString());
        JsonElement apiVersion = vm.GetProperty("put").GetProperty("parameters").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "api-version");
        Assert.True(apiVersion.GetProperty("required").GetBoolean());
        Assert.Contains("2024-07-01", apiVersion.GetProperty("schema").GetProperty("enum").EnumerateArray().Select(v => v.GetString()));
        Assert.True(paths.TryGetProperty("/v1/hosts/{hostName}/assignments", out _));
        Assert.True(paths.TryGetProperty("/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}/operations/{operationId}", out _));
        Assert.True(document.Body.GetProperty("components").GetProperty("schemas").TryGetProperty("TrustedLaunchExtensions", out _));
    }
}
