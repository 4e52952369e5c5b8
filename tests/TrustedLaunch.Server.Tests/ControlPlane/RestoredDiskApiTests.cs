using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// A backup a host restored, landed in the control plane (<c>PUT /v1/hosts/{host}/restoredDisks/{diskId}</c>, <c>tl backup restore --disk</c>)
/// through the real HTTP API: an Unattached <c>Microsoft.Compute/disks</c> resource on that host with <c>createOption: Restore</c>, kept by
/// the host, attached by a new VM (placed on the host, the guest state taken over); refused while the backed-up vTPM identity lives on.
/// </summary>
public sealed class RestoredDiskApiTests(HostedArmTestService arm) : IClassFixture<HostedArmTestService>
{
    // The group grants the test's host (HostGrants): a host registers resources only where a group's tag lets it.
    private static JsonObject Granted(string hosts = "host1") => new() { ["trustedLaunch.registeringHosts"] = hosts };

    private const string DiskApi = "2024-03-02";
    private static readonly string ImageFile = $"/var/lib/trustedlaunch/images/debian-12-{ArmTestService.Gen2Sku}-1.0.0.qcow2";

    private Task<ArmAnswer> RegisterAsync(Guid diskId, JsonObject body, string? host = null) =>
        arm.SendAsync(HttpMethod.Put, $"/v1/hosts/{host ?? arm.Host.Name}/restoredDisks/{diskId:D}", body);

    private JsonObject Restored(string group, string name, Guid sourceVmId, Guid? backupId = null, string? ekSerial = "7F01", string? backingFile = null) => new()
    {
        ["diskName"] = name, ["subscriptionId"] = arm.SubscriptionId, ["resourceGroup"] = group, ["backupId"] = (backupId ?? Guid.NewGuid()).ToString(),
        ["sourceVmId"] = sourceVmId.ToString(), ["backupCreatedAt"] = "2026-12-01T10:00:00Z", ["backingFile"] = backingFile ?? ImageFile,
        ["guestStateIncluded"] = true, ["vTpm"] = true, ["ekCertificateSerial"] = ekSerial,
    };

    private static JsonObject AttachBody(string diskId)
    {
        JsonObject body = ArmTestService.VmBody();
        JsonObject storage = body["properties"]!["storageProfile"]!.AsObject();
        storage.Remove("imageReference");
        storage["osDisk"] = new JsonObject { ["createOption"] = "Attach", ["managedDisk"] = new JsonObject { ["id"] = diskId }, ["deleteOption"] = "Detach" };
        return body;
    }

    [Fact]
    public async Task Registered_IsAnUnattachedRestoreDiskOnThatHost_KeptByIt_AndANewVmAttachesIt()
    {
        string group = await arm.CreateGroupAsync(tags: Granted());
        var diskId = Guid.NewGuid();
        var sourceVmId = Guid.NewGuid();
        var backupId = Guid.NewGuid();

        ArmAnswer registered = await RegisterAsync(diskId, Restored(group, "restored1", sourceVmId, backupId));
        ArmAnswer again = await RegisterAsync(diskId, Restored(group, "restored1", sourceVmId, backupId));
        string id = registered.Body.GetProperty("id").GetString()!;
        JsonElement disk = (await arm.GetAsync(ArmTestService.WithApi(id, DiskApi))).Body;
        JsonElement kept = (await arm.Host.PollAsync()).GetProperty("disks");

        Assert.True(registered.Status == HttpStatusCode.OK, registered.ToString());
        Assert.Equal(HttpStatusCode.OK, again.Status); // a retry of the same restore: the same disk
        Assert.Equal(id, again.Body.GetProperty("id").GetString());
        Assert.EndsWith($"/resourceGroups/{group}/providers/Microsoft.Compute/disks/restored1", id, StringComparison.OrdinalIgnoreCase);
        JsonElement properties = disk.GetProperty("properties");
        Assert.Equal("Restore", properties.GetProperty("creationData").GetProperty("createOption").GetString());
        Assert.Equal("Unattached", properties.GetProperty("diskState").GetString());
        Assert.Equal(diskId.ToString(), properties.GetProperty("uniqueId").GetString());
        Assert.Equal("TrustedLaunch", properties.GetProperty("securityProfile").GetProperty("securityType").GetString());
        Assert.Equal("V2", properties.GetProperty("hyperVGeneration").GetString());
        Assert.Equal("Succeeded", properties.GetProperty("provisioningState").GetString());
        JsonElement extension = properties.GetProperty("trustedLaunchDisk");
        Assert.Equal("host1", extension.GetProperty("hostName").GetString());
        Assert.Equal(sourceVmId.ToString(), extension.GetProperty("lastVmId").GetString());
        Assert.Equal(backupId.ToString(), extension.GetProperty("restoredFromBackup").GetProperty("backupId").GetString());
        Assert.Equal(sourceVmId.ToString(), extension.GetProperty("restoredFromBackup").GetProperty("sourceVmId").GetString());
        Assert.False(disk.TryGetProperty("managedBy", out JsonElement managedBy) && managedBy.ValueKind == JsonValueKind.String);
        Assert.Contains(kept.EnumerateArray(), d => d.GetProperty("diskId").GetString() == diskId.ToString() && d.GetProperty("desiredState").GetString() == "Present");

        // tl vm create --attach-os-disk restored1: the existing attach path — placed on the disk's host, the guest state taken over in place.
        ArmAnswer created = await arm.PutVmAsync(group, "back1", AttachBody(id));
        JsonElement spec = FakeHost.Assignment(await arm.Host.PollAsync(), "back1").GetProperty("spec");
        await arm.Host.ConvergeAsync();
        JsonElement vm = (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "back1")))).Body;
        JsonElement attached = (await arm.GetAsync(ArmTestService.WithApi(id, DiskApi))).Body;

        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        Assert.True(spec.GetProperty("attachDetachedDisk").GetBoolean());
        Assert.Equal(diskId.ToString(), spec.GetProperty("osDiskId").GetString());
        Assert.Equal("restored1", spec.GetProperty("osDiskName").GetString());
        Assert.Equal("TrustedLaunch", spec.GetProperty("securityType").GetString());
        Assert.Contains(ArmTestService.Gen2Sku, spec.GetProperty("imageUrn").GetString(), StringComparison.Ordinal);
        Assert.Equal("Succeeded", vm.GetProperty("properties").GetProperty("provisioningState").GetString());
        Assert.Equal("Attached", attached.GetProperty("properties").GetProperty("diskState").GetString());
        Assert.Equal(vm.GetProperty("id").GetString(), attached.GetProperty("managedBy").GetString());
    }

    [Fact]
    public async Task Refused_WhileTheBackedUpVtpmIdentityLives_TheVmItself_ItsDetachedDisk_OrAVmWithTheSameEk()
    {
        string group = await arm.CreateGroupAsync(tags: Granted());
        JsonElement living = await arm.CreateRunningAsync(group, "alive1");
        var livingVmId = Guid.Parse(living.GetProperty("properties").GetProperty("vmId").GetString()!);
        JsonObject detachBody = ArmTestService.VmBody();
        detachBody["properties"]!["storageProfile"]!["osDisk"]!["deleteOption"] = "Detach";
        JsonElement gone = await arm.CreateRunningAsync(group, "gone1", detachBody);
        var goneVmId = Guid.Parse(gone.GetProperty("properties").GetProperty("vmId").GetString()!);
        ArmAnswer deleted = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, "gone1")));
        Assert.True(deleted.Status == HttpStatusCode.Accepted, deleted.ToString());
        await arm.Host.ConvergeAsync();
        // A VM whose vTPM reported an EK certificate: a backup holding that EK (whatever VM it was taken of) is the same identity.
        await arm.CreateRunningAsync(group, "holder1");
        using var ekKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=ek", ekKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using X509Certificate2 ek = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        JsonObject report = FakeHost.Report(FakeHost.Assignment(await arm.Host.PollAsync(), "holder1"), "Running", bootVerdict: "booted");
        report["vTpmKeys"] = new JsonArray(new JsonObject { ["role"] = "ek-rsa2048", ["certificatePem"] = ek.ExportCertificatePem() });
        Assert.Equal(HttpStatusCode.OK, (await arm.Host.ReportAsync(report)).Status);

        ArmAnswer original = await RegisterAsync(Guid.NewGuid(), Restored(group, "r1", livingVmId));
        ArmAnswer detached = await RegisterAsync(Guid.NewGuid(), Restored(group, "r2", goneVmId));
        ArmAnswer sameEk = await RegisterAsync(Guid.NewGuid(), Restored(group, "r3", Guid.NewGuid(), ekSerial: ek.SerialNumber.ToLowerInvariant()));
        ArmAnswer list = await arm.GetAsync(ArmTestService.WithApi($"{arm.GroupPath(group)}/providers/Microsoft.Compute/disks", DiskApi));

        foreach ((ArmAnswer refused, string names) in new[] { (original, "alive1"), (detached, "gone1_OsDisk"), (sameEk, "holder1") })
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.Status);
            Assert.Equal("VTpmIdentityInUse", refused.ErrorCode);
            string message = refused.Error.GetProperty("message").GetString()!;
            Assert.Contains(names, message, StringComparison.Ordinal);
            Assert.Contains("two resources never share one EK", message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(list.Body.GetProperty("value").EnumerateArray(), d => d.GetProperty("name").GetString() is "r1" or "r2" or "r3");
    }

    [Fact]
    public async Task Refusals_UnknownHost_BadBody_MissingGroup_UnregisteredImage_NameTaken_AnotherDiskId()
    {
        string group = await arm.CreateGroupAsync(tags: Granted());
        var diskId = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.OK, (await RegisterAsync(diskId, Restored(group, "taken1", Guid.NewGuid()))).Status);

        ArmAnswer unknownHost = await RegisterAsync(Guid.NewGuid(), Restored(group, "x1", Guid.NewGuid()), host: "nosuchhost");
        ArmAnswer bad = await RegisterAsync(Guid.NewGuid(), new JsonObject { ["diskName"] = "bad name!", ["vTpm"] = true });
        ArmAnswer noGroup = await RegisterAsync(Guid.NewGuid(), Restored("nosuchgroup", "x2", Guid.NewGuid()));
        ArmAnswer noImage = await RegisterAsync(Guid.NewGuid(), Restored(group, "x3", Guid.NewGuid(), backingFile: "/srv/images/unknown.qcow2"));
        ArmAnswer nameTaken = await RegisterAsync(Guid.NewGuid(), Restored(group, "taken1", Guid.NewGuid()));
        ArmAnswer idTaken = await RegisterAsync(diskId, Restored(group, "other1", Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.NotFound, unknownHost.Status);
        Assert.Equal("HostNotFound", unknownHost.ErrorCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        string details = bad.Error.ToString();
        foreach (string target in new[] { "diskName", "resourceGroup", "backupId", "backingFile", "vTpm", "ekCertificateSerial" })
            Assert.Contains($"\"{target}\"", details, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, noGroup.Status);
        Assert.Equal("ResourceGroupNotFound", noGroup.ErrorCode);
        Assert.Equal(HttpStatusCode.BadRequest, noImage.Status);
        Assert.Contains("/srv/images/unknown.qcow2", noImage.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, nameTaken.Status);
        Assert.Contains("taken1", nameTaken.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, idTaken.Status);
    }

    [Fact]
    public async Task Register_IntoAGroupThatDoesNotGrantTheHost_Is403NamingTheGroup()
    {
        string untagged = await arm.CreateGroupAsync();

        ArmAnswer refused = await RegisterAsync(Guid.NewGuid(), Restored(untagged, "r1", Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("AuthorizationFailed", refused.ErrorCode);
        Assert.Contains($"Resource group '{untagged}' does not grant host 'host1'", refused.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("'Microsoft.Compute/disks/write'", refused.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
