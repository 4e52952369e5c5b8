using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// Azure's upgrade of an existing VM to Trusted Launch through the API (docs/upgrade.md): PATCH of a deallocated Gen2 VM,
/// Azure's defaults, the pre-flight that refuses Secure Boot it cannot vouch for, a size without Trusted Launch, and the
/// rollback to Standard. The boots themselves are in the platform tests.
/// </summary>
public sealed class VmUpgradeApiTests(HostedArmTestService arm) : IClassFixture<HostedArmTestService>
{
    [Fact]
    public async Task Patch_DeallocatedStandardVm_BecomesTrustedLaunch_TheNextStartCarriesIt_AndRollsBack()
    {
        string group = await arm.CreateGroupAsync();
        string vm = await CreateDeallocatedStandardAsync(group, "up1");

        ArmAnswer upgraded = await PatchAsync(group, vm, new JsonObject { ["securityType"] = "TrustedLaunch" });

        Assert.True(upgraded.Status == HttpStatusCode.OK, upgraded.ToString());
        JsonElement security = upgraded.Body.GetProperty("properties").GetProperty("securityProfile");
        Assert.Equal("TrustedLaunch", security.GetProperty("securityType").GetString());
        Assert.False(security.GetProperty("uefiSettings").GetProperty("secureBootEnabled").GetBoolean()); // Azure's upgrade default
        Assert.True(security.GetProperty("uefiSettings").GetProperty("vTpmEnabled").GetBoolean());
        Assert.Equal("microsoft", upgraded.Body.GetProperty("properties").GetProperty("trustedLaunchExtensions").GetProperty("secureBootTemplate").GetString());
        Assert.Equal("Succeeded", upgraded.Body.GetProperty("properties").GetProperty("provisioningState").GetString());

        await arm.ActAsync(group, vm, "start");
        ArmAnswer started = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, vm)));
        Assert.Equal("Succeeded", started.Body.GetProperty("properties").GetProperty("provisioningState").GetString());
        await arm.ActAsync(group, vm, "deallocate");

        ArmAnswer rolledBack = await PatchAsync(group, vm, new JsonObject { ["securityType"] = "Standard" });

        Assert.True(rolledBack.Status == HttpStatusCode.OK, rolledBack.ToString());
        Assert.False(rolledBack.Body.GetProperty("properties").TryGetProperty("securityProfile", out _), "Standard reads back without a security type");
    }

    [Fact]
    public async Task Patch_UpgradeWithSecureBootAndKeysTheFirmwareCannotEnrol_RefusedByThePreflight_NothingChanges()
    {
        string group = await arm.CreateGroupAsync();
        string vm = await CreateDeallocatedStandardAsync(group, "pre1");
        ArmAnswer before = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, vm)));
        JsonObject body = new()
        {
            ["properties"] = new JsonObject
            {
                ["securityProfile"] = ArmTestService.TrustedLaunch(secureBoot: true, vTpm: true),
                ["trustedLaunchExtensions"] = new JsonObject
                {
                    ["secureBootTemplate"] = "custom",
                    // An ECC certificate: well-formed, but edk2 enrols only RSA certificates in db.
                    ["secureBootKeys"] = new JsonObject { ["db"] = new JsonArray(HostedArmTestService.TestCertificate()) },
                },
            },
        };

        ArmAnswer refused = await arm.SendAsync(HttpMethod.Patch, ArmTestService.WithApi(arm.VmPath(group, vm)), body);

        Assert.True(refused.Status == HttpStatusCode.BadRequest, refused.ToString());
        Assert.Equal("SecureBootPreflightFailed", refused.ErrorCode);
        Assert.Equal("properties.securityProfile.uefiSettings.secureBootEnabled", refused.Error.GetProperty("target").GetString());
        string message = refused.Error.GetProperty("message").GetString()!;
        Assert.StartsWith($"Secure Boot would not boot VM '{vm}': the VM's Secure Boot keys cannot be enrolled: CN=TrustedLaunch test db: edk2 accepts only RSA certificates",
            message, StringComparison.Ordinal);
        Assert.Contains("Nothing was changed.", message, StringComparison.Ordinal);
        ArmAnswer after = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, vm)));
        Assert.Equal(before.Headers.ETag, after.Headers.ETag);
        Assert.False(after.Body.GetProperty("properties").TryGetProperty("securityProfile", out _));
    }

    [Fact]
    public async Task Patch_UpgradeWithSecureBoot_ABootChainThatCannotBeRead_IsLeftToTheFirmware()
    {
        string group = await arm.CreateGroupAsync();
        string vm = await CreateDeallocatedStandardAsync(group, "pre2");

        // The test service's images name files that do not exist: nothing to judge, so the update goes through (as in Azure).
        ArmAnswer upgraded = await PatchAsync(group, vm, ArmTestService.TrustedLaunch(secureBoot: true, vTpm: true));

        Assert.True(upgraded.Status == HttpStatusCode.OK, upgraded.ToString());
        Assert.True(upgraded.Body.GetProperty("properties").GetProperty("securityProfile").GetProperty("uefiSettings").GetProperty("secureBootEnabled").GetBoolean());
    }

    [Fact]
    public async Task Patch_UpgradeVmWhoseSizeHasNoTrustedLaunch_RefusedWithAzuresMessage()
    {
        string group = await arm.CreateGroupAsync();
        string vm = await CreateDeallocatedStandardAsync(group, "a4", size: "Standard_A4_v2");

        ArmAnswer refused = await PatchAsync(group, vm, ArmTestService.TrustedLaunch(secureBoot: false, vTpm: true));

        Assert.Equal((HttpStatusCode.BadRequest, "TrustedLaunchVmSizeNotSupported"), (refused.Status, refused.ErrorCode));
        Assert.StartsWith("The VM size 'Standard_A4_v2' is not supported", refused.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private async Task<string> CreateDeallocatedStandardAsync(string group, string name, string size = "Standard_D2s_v3")
    {
        JsonObject body = ArmTestService.VmBody(size: size);
        body["properties"]!["securityProfile"] = new JsonObject { ["securityType"] = "Standard" };
        await arm.CreateRunningAsync(group, name, body);
        await arm.ActAsync(group, name, "deallocate");
        return name;
    }

    private Task<ArmAnswer> PatchAsync(string group, string vm, JsonObject securityProfile) =>
        arm.SendAsync(HttpMethod.Patch, ArmTestService.WithApi(arm.VmPath(group, vm)),
            new JsonObject { ["properties"] = new JsonObject { ["securityProfile"] = securityProfile } });
}
