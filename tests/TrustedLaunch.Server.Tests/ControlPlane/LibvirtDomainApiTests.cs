using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// A libvirt domain a host attests (<c>PUT /v1/hosts/{host}/libvirtDomains/{uuid}</c>, <c>tl host --libvirt-domain</c>) through the real
/// HTTP API: a VM resource marked externally managed, never assigned to its host, power operations and changes refused with
/// <c>OperationNotAllowed</c>, enrolled for attestation, DELETE removing the resource only.
/// </summary>
public sealed class LibvirtDomainApiTests(HostedArmTestService arm) : IClassFixture<HostedArmTestService>
{
    // The group grants the test's host (HostGrants): a host registers resources only where a group's tag lets it.
    private static JsonObject Granted(string hosts = "host1") => new() { ["trustedLaunch.registeringHosts"] = hosts };

    private Task<ArmAnswer> RegisterAsync(Guid uuid, JsonObject body, string? host = null) =>
        arm.SendAsync(HttpMethod.Put, $"/v1/hosts/{host ?? arm.Host.Name}/libvirtDomains/{uuid:D}", body);

    private JsonObject Domain(string group, string name, string power = "Running") => new()
    {
        ["domainName"] = name, ["connectionUri"] = "qemu:///session", ["agentSocket"] = "/run/dom/agent.sock",
        ["subscriptionId"] = arm.SubscriptionId, ["resourceGroup"] = group, ["vCpus"] = 2, ["memoryInMB"] = 1024, ["powerState"] = power,
        ["secureBootEnabled"] = true,
    };

    [Fact]
    public async Task Registered_IsAVmResourceMarkedExternallyManaged_NotTheHostsToRun_PowerAndUpdatesRefused_AttestationEnrolled_DeleteRemovesItOnly()
    {
        string group = await arm.CreateGroupAsync(tags: Granted());
        var uuid = Guid.NewGuid();

        ArmAnswer registered = await RegisterAsync(uuid, Domain(group, "dom1"));
        ArmAnswer again = await RegisterAsync(uuid, Domain(group, "dom1"));
        ArmAnswer vm = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "dom1")));
        JsonElement assignments = await arm.Host.PollAsync();
        ArmAnswer powerOff = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "dom1") + "/powerOff"));
        ArmAnswer start = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "dom1") + "/start"));
        ArmAnswer update = await arm.PutVmAsync(group, "dom1", ArmTestService.VmBody());
        ArmAnswer snapshot = await arm.SendAsync(HttpMethod.Put, ArmTestService.WithApi($"{arm.GroupPath(group)}/providers/Microsoft.Compute/snapshots/snap1", "2024-03-02"),
            new JsonObject
            {
                ["location"] = "westus",
                ["properties"] = new JsonObject { ["creationData"] = new JsonObject { ["createOption"] = "Copy", ["sourceResourceId"] = arm.VmPath(group, "dom1") } },
            });
        ArmAnswer challenge = await arm.SendAsync(HttpMethod.Post, $"/v1/vms/{uuid:D}/challenges");
        ArmAnswer stopped = await RegisterAsync(uuid, Domain(group, "dom1", power: "Stopped"));
        ArmAnswer stoppedVm = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "dom1")));

        Assert.True(registered.Status == HttpStatusCode.OK, registered.ToString());
        Assert.Equal(uuid.ToString(), registered.Body.GetProperty("vmId").GetString());
        Assert.Equal(arm.VmPath(group, "dom1"), registered.Body.GetProperty("resourceId").GetString(), ignoreCase: true);
        Assert.Equal(60, registered.Body.GetProperty("attestationIntervalSeconds").GetInt32());
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal("\"1\"", vm.Headers.ETag?.Tag); // registered twice, nothing changed: written once
        JsonElement properties = vm.Body.GetProperty("properties");
        Assert.Equal(uuid.ToString(), properties.GetProperty("vmId").GetString());
        Assert.Equal("Succeeded", properties.GetProperty("provisioningState").GetString());
        Assert.Equal("TrustedLaunch", properties.GetProperty("securityProfile").GetProperty("securityType").GetString());
        Assert.True(properties.GetProperty("securityProfile").GetProperty("uefiSettings").GetProperty("vTpmEnabled").GetBoolean());
        JsonElement managed = properties.GetProperty("trustedLaunchExtensions").GetProperty("externallyManaged");
        Assert.Equal("libvirt", managed.GetProperty("manager").GetString());
        Assert.Equal("dom1", managed.GetProperty("domainName").GetString());
        Assert.Equal("host1", managed.GetProperty("hostName").GetString());
        Assert.DoesNotContain(assignments.GetProperty("virtualMachines").EnumerateArray(), v => v.GetProperty("vmId").GetString() == uuid.ToString());
        foreach (ArmAnswer refused in new[] { powerOff, start, update, snapshot })
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.Status);
            Assert.Equal("OperationNotAllowed", refused.ErrorCode);
            Assert.Contains("managed by libvirt on host host1", refused.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        Assert.True(challenge.Status is HttpStatusCode.OK or HttpStatusCode.Created, challenge.ToString()); // enrolled: the attestation service knows it
        Assert.Equal(HttpStatusCode.OK, stopped.Status);
        Assert.Equal("\"2\"", stoppedVm.Headers.ETag?.Tag); // libvirt's power state changed: written
        Assert.Contains("libvirt", stoppedVm.Body.GetProperty("properties").GetProperty("trustedLaunchExtensions").ToString(), StringComparison.Ordinal);

        ArmAnswer deleted = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, "dom1")));
        ArmAnswer gone = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "dom1")));
        Assert.True(deleted.Status is HttpStatusCode.OK or HttpStatusCode.Accepted or HttpStatusCode.NoContent, deleted.ToString());
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
        Assert.DoesNotContain((await arm.Host.PollAsync()).GetProperty("virtualMachines").EnumerateArray(), v => v.GetProperty("vmId").GetString() == uuid.ToString());
    }

    [Fact]
    public async Task AttestOnRequest_ListedInTheHostsAssignments_RaisesTheDomainsGeneration_AndWakesTheHostsLongPoll()
    {
        string group = await arm.CreateGroupAsync(tags: Granted());
        var uuid = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.OK, (await RegisterAsync(uuid, Domain(group, "domattest"))).Status);
        JsonElement before = Domain(await arm.Host.PollAsync(), uuid);
        string? tokenBefore = arm.Host.Token;

        Task<JsonElement> poll = arm.Host.PollAsync(timeoutSeconds: 30);
        await Task.Delay(200);
        Assert.False(poll.IsCompleted, "nothing changed: the poll waits");
        ArmAnswer attest = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "domattest") + "/attest"));
        JsonElement after = Domain(await poll.WaitAsync(TimeSpan.FromSeconds(20)), uuid);
        ArmAnswer stopped = await RegisterAsync(uuid, Domain(group, "domattest", power: "Stopped"));
        ArmAnswer refused = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "domattest") + "/attest"));

        Assert.Equal("domattest", before.GetProperty("domainName").GetString());
        Assert.Equal(0, before.GetProperty("attestationGeneration").GetInt64());
        Assert.True(attest.Status == HttpStatusCode.Accepted, attest.ToString());
        Assert.Equal(uuid.ToString(), attest.Body.GetProperty("vmId").GetString());
        Assert.Equal(1, after.GetProperty("attestationGeneration").GetInt64());
        Assert.NotEqual(tokenBefore, arm.Host.Token);
        Assert.Equal(HttpStatusCode.OK, stopped.Status);
        Assert.Equal(HttpStatusCode.Conflict, refused.Status); // a stopped domain is not attested on request
        Assert.Equal("OperationNotAllowed", refused.ErrorCode);
        Assert.Equal(1, Domain(await arm.Host.PollAsync(), uuid).GetProperty("attestationGeneration").GetInt64()); // kept across re-registration
    }

    private static JsonElement Domain(JsonElement assignments, Guid uuid) =>
        Assert.Single(assignments.GetProperty("libvirtDomains").EnumerateArray(), d => d.GetProperty("vmId").GetString() == uuid.ToString());

    [Fact]
    public async Task Register_Refusals_UnknownHost_BadBody_MissingGroup_AnotherVmsId_AndAPutThatSetsTheMarker()
    {
        string group = await arm.CreateGroupAsync(tags: Granted());
        JsonElement platformVm = await arm.CreateRunningAsync(group, "own1");
        var platformVmId = Guid.Parse(platformVm.GetProperty("properties").GetProperty("vmId").GetString()!);

        ArmAnswer unknownHost = await RegisterAsync(Guid.NewGuid(), Domain(group, "dom2"), host: "nosuchhost");
        ArmAnswer bad = await RegisterAsync(Guid.NewGuid(), new JsonObject { ["domainName"] = "bad name!", ["powerState"] = "Paused" });
        ArmAnswer noGroup = await RegisterAsync(Guid.NewGuid(), Domain("nosuchgroup", "dom2"));
        ArmAnswer takenId = await RegisterAsync(platformVmId, Domain(group, "dom3"));
        JsonObject marked = ArmTestService.VmBody();
        marked["properties"]!["trustedLaunchExtensions"] = new JsonObject
        {
            ["externallyManaged"] = new JsonObject { ["manager"] = "libvirt", ["hostName"] = "host1", ["domainName"] = "x", ["domainUuid"] = Guid.NewGuid().ToString() },
        };
        ArmAnswer put = await arm.PutVmAsync(group, "sneaky", marked);

        Assert.Equal(HttpStatusCode.NotFound, unknownHost.Status);
        Assert.Equal("HostNotFound", unknownHost.ErrorCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        string details = bad.Error.ToString();
        foreach (string target in new[] { "domainName", "resourceGroup", "vCpus", "powerState" })
            Assert.Contains($"\"{target}\"", details, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, noGroup.Status);
        Assert.Equal(HttpStatusCode.Conflict, takenId.Status);
        Assert.Equal(HttpStatusCode.BadRequest, put.Status);
        Assert.Contains("read-only", put.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_IntoAGroupThatDoesNotGrantTheHost_Is403NamingTheGroup_AGrantOrStarLetsItIn()
    {
        string untagged = await arm.CreateGroupAsync();
        string otherHost = await arm.CreateGroupAsync(tags: Granted("host7, host8"));
        string star = await arm.CreateGroupAsync(tags: Granted("*"));
        string listed = await arm.CreateGroupAsync(tags: Granted("host9,HOST1"));

        ArmAnswer refused = await RegisterAsync(Guid.NewGuid(), Domain(untagged, "dom1"));
        ArmAnswer refusedOther = await RegisterAsync(Guid.NewGuid(), Domain(otherHost, "dom1"));
        ArmAnswer byStar = await RegisterAsync(Guid.NewGuid(), Domain(star, "dom1"));
        ArmAnswer byName = await RegisterAsync(Guid.NewGuid(), Domain(listed, "dom1"));
        ArmAnswer nothing = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(untagged, "dom1")));

        foreach ((ArmAnswer answer, string group) in new[] { (refused, untagged), (refusedOther, otherHost) })
        {
            Assert.Equal(HttpStatusCode.Forbidden, answer.Status);
            Assert.Equal("AuthorizationFailed", answer.ErrorCode);
            string message = answer.Error.GetProperty("message").GetString()!;
            Assert.Contains($"Resource group '{group}' does not grant host 'host1'", message, StringComparison.Ordinal);
            Assert.Contains("'Microsoft.Compute/virtualMachines/write'", message, StringComparison.Ordinal);
            Assert.Contains("trustedLaunch.registeringHosts", message, StringComparison.Ordinal);
        }

        Assert.True(byStar.Status == HttpStatusCode.OK, byStar.ToString());
        Assert.True(byName.Status == HttpStatusCode.OK, byName.ToString());
        Assert.Equal(HttpStatusCode.NotFound, nothing.Status);
    }
}
