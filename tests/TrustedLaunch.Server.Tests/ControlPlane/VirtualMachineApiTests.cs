using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>VM PUT/GET/list/DELETE shapes, long-running operations, ETags and concurrency, with no host registered (operations stay InProgress).</summary>
public sealed class VirtualMachineApiTests(ArmTestService arm) : IClassFixture<ArmTestService>
{
    [Fact]
    public async Task Put_New_201CreatingWithAsyncOperationAndAzureShape()
    {
        string group = await arm.CreateGroupAsync();

        ArmAnswer created = await arm.PutVmAsync(group, "web1", ArmTestService.VmBody());

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("\"1\"", created.Headers.ETag?.Tag);
        JsonElement vm = created.Body;
        Assert.Equal(arm.VmPath(group, "web1"), vm.GetProperty("id").GetString());
        Assert.Equal("web1", vm.GetProperty("name").GetString());
        Assert.Equal("Microsoft.Compute/virtualMachines", vm.GetProperty("type").GetString());
        Assert.Equal("westus", vm.GetProperty("location").GetString());
        Assert.Equal("test", vm.GetProperty("tags").GetProperty("env").GetString());
        Assert.Equal("\"1\"", vm.GetProperty("etag").GetString());
        JsonElement properties = vm.GetProperty("properties");
        Assert.Equal("Creating", properties.GetProperty("provisioningState").GetString());
        Assert.True(Guid.TryParse(properties.GetProperty("vmId").GetString(), out _));
        Assert.True(properties.TryGetProperty("timeCreated", out _));
        // Azure's default for a Gen2 image and a capable size: Trusted Launch with Secure Boot and vTPM.
        Assert.Equal("TrustedLaunch", properties.GetProperty("securityProfile").GetProperty("securityType").GetString());
        Assert.True(properties.GetProperty("securityProfile").GetProperty("uefiSettings").GetProperty("secureBootEnabled").GetBoolean());
        Assert.True(properties.GetProperty("securityProfile").GetProperty("uefiSettings").GetProperty("vTpmEnabled").GetBoolean());
        Assert.Equal("1.1.0", properties.GetProperty("storageProfile").GetProperty("imageReference").GetProperty("exactVersion").GetString());
        JsonElement extensions = properties.GetProperty("trustedLaunchExtensions");
        Assert.Equal("microsoft", extensions.GetProperty("secureBootTemplate").GetString());
        Assert.Equal(60, extensions.GetProperty("attestationIntervalSeconds").GetInt32());
        // Members this platform does not serve are not echoed; secrets never are.
        Assert.False(properties.TryGetProperty("networkProfile", out _));
        Assert.False(properties.GetProperty("osProfile").TryGetProperty("adminPassword", out _));

        string monitor = arm.Local(created.Header("Azure-AsyncOperation")!);
        Assert.Matches($"^/subscriptions/{arm.SubscriptionId}/providers/Microsoft.Compute/locations/westus/operations/[0-9a-f-]{{36}}\\?api-version=2024-07-01$", monitor);
        ArmAnswer operation = await arm.GetAsync(monitor);
        Assert.Equal(HttpStatusCode.OK, operation.Status);
        Assert.Equal("InProgress", operation.Body.GetProperty("status").GetString());
        Assert.True(operation.Body.TryGetProperty("startTime", out _));
        Assert.False(operation.Body.TryGetProperty("endTime", out _));
    }

    [Fact]
    public async Task Put_StandardSecurityType_ReadsBackWithoutSecurityType()
    {
        string group = await arm.CreateGroupAsync();
        JsonObject body = ArmTestService.VmBody();
        body["properties"]!["securityProfile"] = new JsonObject { ["securityType"] = "Standard" };

        ArmAnswer created = await arm.PutVmAsync(group, "std1", body);
        ArmAnswer got = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "std1")));

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.False(got.Body.GetProperty("properties").TryGetProperty("securityProfile", out _), got.ToString());
        Assert.Equal(JsonValueKind.Object, got.Body.GetProperty("properties").GetProperty("trustedLaunchExtensions").ValueKind);
    }

    [Fact]
    public async Task Put_Gen1ImageWithoutSecurityType_StandardAsAzureDefaults()
    {
        string group = await arm.CreateGroupAsync();

        ArmAnswer created = await arm.PutVmAsync(group, "gen1", ArmTestService.VmBody(sku: ArmTestService.Gen1Sku));

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.False(created.Body.GetProperty("properties").TryGetProperty("securityProfile", out _));
    }

    [Fact]
    public async Task Put_OldApiVersion_AnsweredWithoutTimeCreated()
    {
        string group = await arm.CreateGroupAsync();

        ArmAnswer created = await arm.PutVmAsync(group, "old1", ArmTestService.VmBody(), apiVersion: "2020-12-01");

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.False(created.Body.GetProperty("properties").TryGetProperty("timeCreated", out _));
    }

    [Theory]
    [InlineData("bad_name")]
    [InlineData("ends-")]
    public async Task Put_InvalidName_InvalidResourceName(string name)
    {
        string group = await arm.CreateGroupAsync();

        ArmAnswer answer = await arm.PutVmAsync(group, name, ArmTestService.VmBody());

        Assert.Equal((HttpStatusCode.BadRequest, "InvalidResourceName"), (answer.Status, answer.ErrorCode));
    }

    [Fact]
    public async Task Put_MissingGroupOrMalformedBody_ArmErrors()
    {
        ArmAnswer noGroup = await arm.PutVmAsync(arm.NewName("nogroup"), "vm1", ArmTestService.VmBody());
        string group = await arm.CreateGroupAsync();
        ArmAnswer malformed = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(arm.VmPath(group, "vm1")), JsonValue.Create("not an object"));
        JsonObject noSize = ArmTestService.VmBody();
        noSize["properties"]!.AsObject().Remove("hardwareProfile");
        ArmAnswer missing = await arm.PutVmAsync(group, "vm1", noSize);

        Assert.Equal((HttpStatusCode.NotFound, "ResourceGroupNotFound"), (noGroup.Status, noGroup.ErrorCode));
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidRequestContent"), (malformed.Status, malformed.ErrorCode));
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidParameter"), (missing.Status, missing.ErrorCode));
        Assert.Equal("Required parameter 'vmSize' is missing (null).", missing.Error.GetProperty("message").GetString());
        Assert.Equal("properties.hardwareProfile.vmSize", missing.Error.GetProperty("target").GetString());
    }

    [Fact]
    public async Task Put_MemberGivenTwice_InvalidRequestContent()
    {
        string group = await arm.CreateGroupAsync();
        string body = ArmTestService.VmBody().ToJsonString().Replace("\"location\":\"westus\"", "\"location\":\"westus\",\"location\":\"eastus\"", StringComparison.Ordinal);
        using var request = new HttpRequestMessage(HttpMethod.Put, ArmTestService.WithApi(arm.VmPath(group, "dup1")))
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };

        using HttpResponseMessage response = await arm.Service.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("InvalidRequestContent", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paths_CaseInsensitive_NamesKeepTheirCase()
    {
        string group = await arm.CreateGroupAsync(arm.NewName("MixedGroup"));
        string upper = $"/SUBSCRIPTIONS/{arm.SubscriptionId.ToUpperInvariant()}/RESOURCEGROUPS/{group.ToUpperInvariant()}/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/MyVm";

        ArmAnswer created = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi(upper), ArmTestService.VmBody());
        ArmAnswer got = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group.ToLowerInvariant(), "myvm")));

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal(HttpStatusCode.OK, got.Status);
        Assert.Equal("MyVm", got.Body.GetProperty("name").GetString());
        Assert.Equal(created.Body.GetProperty("properties").GetProperty("vmId").GetString(), got.Body.GetProperty("properties").GetProperty("vmId").GetString());
    }

    [Fact]
    public async Task Get_Unknown_ResourceNotFoundAsArm()
    {
        string group = await arm.CreateGroupAsync();

        ArmAnswer answer = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "ghost")));

        Assert.Equal(HttpStatusCode.NotFound, answer.Status);
        Assert.Equal($"The Resource 'Microsoft.Compute/virtualMachines/ghost' under resource group '{group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            answer.Error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Delete_VmNoHostHolds_202ThenGone()
    {
        string group = await arm.CreateGroupAsync();
        await arm.PutVmAsync(group, "gone1", ArmTestService.VmBody());
        string monitor = arm.Local((await arm.PutVmAsync(group, "gone2", ArmTestService.VmBody())).Header("Azure-AsyncOperation")!);

        ArmAnswer deleted = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, "gone2")));
        ArmAnswer after = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "gone2")));
        ArmAnswer location = await arm.GetAsync(arm.Local(deleted.Headers.Location!.ToString()));
        ArmAnswer again = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, "gone2")));
        ArmAnswer create = await arm.GetAsync(monitor);

        Assert.Equal(HttpStatusCode.Accepted, deleted.Status);
        Assert.NotNull(deleted.Headers.RetryAfter);
        Assert.NotNull(deleted.Header("Azure-AsyncOperation"));
        Assert.Equal(HttpStatusCode.NotFound, after.Status);
        Assert.Equal(HttpStatusCode.OK, location.Status);
        Assert.Equal(HttpStatusCode.NoContent, again.Status);
        // The create that never finished was preempted by the delete.
        Assert.Equal("Canceled", create.Body.GetProperty("status").GetString());
        Assert.Equal("OperationPreempted", create.Body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "gone1")))).Status);
    }

    [Fact]
    public async Task Put_IfNoneMatchStarOnExisting_412AndIfMatchOnAbsent_412()
    {
        string group = await arm.CreateGroupAsync();
        await arm.PutVmAsync(group, "etag1", ArmTestService.VmBody());

        ArmAnswer exists = await arm.PutVmAsync(group, "etag1", ArmTestService.VmBody(), headers: ("If-None-Match", "*"));
        ArmAnswer absent = await arm.PutVmAsync(group, "etag2", ArmTestService.VmBody(), headers: ("If-Match", "*"));
        ArmAnswer stale = await arm.PutVmAsync(group, "etag1", ArmTestService.VmBody(), headers: ("If-Match", "\"7\""));
        ArmAnswer fresh = await arm.PutVmAsync(group, "etag3", ArmTestService.VmBody(), headers: ("If-None-Match", "*"));

        Assert.Equal((HttpStatusCode.PreconditionFailed, "PreconditionFailed"), (exists.Status, exists.ErrorCode));
        Assert.Equal("If-None-Match", exists.Error.GetProperty("target").GetString());
        Assert.Equal(HttpStatusCode.PreconditionFailed, absent.Status);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.Status);
        Assert.Equal(HttpStatusCode.Created, fresh.Status);
    }

    [Fact]
    public async Task Put_WhileCreating_409AnotherOperationInProgress()
    {
        string group = await arm.CreateGroupAsync();
        await arm.PutVmAsync(group, "busy1", ArmTestService.VmBody());

        ArmAnswer again = await arm.PutVmAsync(group, "busy1", ArmTestService.VmBody());
        ArmAnswer action = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "busy1") + "/powerOff"));

        Assert.Equal((HttpStatusCode.Conflict, "AnotherOperationInProgress"), (again.Status, again.ErrorCode));
        Assert.Contains("/providers/Microsoft.Compute/locations/westus/operations/", again.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, action.Status);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("*")]
    public async Task Put_ConcurrentCreatesOfOneVm_OneWinsTheOtherGets409Or412(string? ifNoneMatch)
    {
        string group = await arm.CreateGroupAsync();
        for (int round = 0; round < 5; round++)
        {
            string name = $"race{round}";
            (string, string)[] headers = ifNoneMatch is null ? [] : [("If-None-Match", ifNoneMatch)];

            ArmAnswer[] answers = await Task.WhenAll(
                arm.PutVmAsync(group, name, ArmTestService.VmBody(), headers: headers),
                arm.PutVmAsync(group, name, ArmTestService.VmBody(), headers: headers));

            HttpStatusCode[] statuses = answers.Select(a => a.Status).Order().ToArray();
            Assert.Equal(HttpStatusCode.Created, statuses[0]);
            HttpStatusCode expected = ifNoneMatch is null ? HttpStatusCode.Conflict : HttpStatusCode.PreconditionFailed;
            Assert.True(statuses[1] == expected, string.Join(" | ", answers.Select(a => a.ToString())));
            ArmAnswer winner = answers.Single(a => a.Status == HttpStatusCode.Created);
            ArmAnswer stored = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, name)));
            Assert.Equal(winner.Body.GetProperty("properties").GetProperty("vmId").GetString(), stored.Body.GetProperty("properties").GetProperty("vmId").GetString());
        }
    }

    [Fact]
    public async Task List_GroupAndSubscription_ValueShape()
    {
        string group = await arm.CreateGroupAsync();
        await arm.PutVmAsync(group, "l2", ArmTestService.VmBody());
        await arm.PutVmAsync(group, "l1", ArmTestService.VmBody());

        ArmAnswer inGroup = await arm.GetAsync(ArmTestService.WithApi($"{arm.GroupPath(group)}/providers/Microsoft.Compute/virtualMachines"));
        ArmAnswer inSubscription = await arm.GetAsync(ArmTestService.WithApi($"/subscriptions/{arm.SubscriptionId}/providers/Microsoft.Compute/virtualMachines"));
        ArmAnswer noGroup = await arm.GetAsync(ArmTestService.WithApi($"{arm.GroupPath("nope")}/providers/Microsoft.Compute/virtualMachines"));

        Assert.Equal(["l1", "l2"], inGroup.Body.GetProperty("value").EnumerateArray().Select(v => v.GetProperty("name").GetString()));
        Assert.False(inGroup.Body.TryGetProperty("nextLink", out _));
        Assert.Contains(inSubscription.Body.GetProperty("value").EnumerateArray(), v => v.GetProperty("id").GetString() == arm.VmPath(group, "l1"));
        Assert.Equal("ResourceGroupNotFound", noGroup.ErrorCode);
    }

    [Fact]
    public async Task Operation_Unknown_404NotFound()
    {
        ArmAnswer answer = await arm.GetAsync($"/subscriptions/{arm.SubscriptionId}/providers/Microsoft.Compute/locations/westus/operations/{Guid.NewGuid()}?api-version=2024-07-01");

        Assert.Equal((HttpStatusCode.NotFound, "NotFound"), (answer.Status, answer.ErrorCode));
    }
}

/// <summary>A service whose lists have two items per page.</summary>
public sealed class PagedArmTestService : ArmTestService
{
    protected override ControlPlaneOptions Options => new() { PageSize = 2 };
}

public sealed class VirtualMachinePagingTests(PagedArmTestService arm) : IClassFixture<PagedArmTestService>
{
    [Fact]
    public async Task List_MoreThanAPage_NextLinksLeadThroughAll()
    {
        string group = await arm.CreateGroupAsync();
        string[] names = ["p1", "p2", "p3", "p4", "p5"];
        foreach (string name in names)
            Assert.Equal(HttpStatusCode.Created, (await arm.PutVmAsync(group, name, ArmTestService.VmBody())).Status);

        var seen = new List<string>();
        string? next = ArmTestService.WithApi($"{arm.GroupPath(group)}/providers/Microsoft.Compute/virtualMachines");
        int pages = 0;
        while (next is not null)
        {
            ArmAnswer page = await arm.GetAsync(next);
            Assert.Equal(HttpStatusCode.OK, page.Status);
            seen.AddRange(page.Body.GetProperty("value").EnumerateArray().Select(v => v.GetProperty("name").GetString()!));
            next = page.Body.TryGetProperty("nextLink", out JsonElement link) ? arm.Local(link.GetString()!) : null;
            pages++;
        }

        Assert.Equal(names, seen);
        Assert.Equal(3, pages);
    }
}
