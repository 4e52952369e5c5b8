using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>The rules about changing an existing VM: what is fixed at creation, and what needs the VM deallocated.</summary>
public sealed class VmUpdateRuleTests(HostedArmTestService arm) : IClassFixture<HostedArmTestService>
{
    /// <summary>The rule codes these tests send (with <see cref="TrustedLaunchRuleTests.CreateCases"/>, every rule of the table).</summary>
    public static IReadOnlyList<string> Covered { get; } =
    [
        "SecurityTypeChangeRequiresDeallocation", "TrustedLaunchUpgradeRequiresGen2", "ImageReferenceChangeNotAllowed", "SecureBootKeysChangeNotAllowed",
        "UefiSettingsChangeRequiresDeallocation", "VmSizeChangeRequiresDeallocation",
    ];

    [Fact]
    public async Task Put_ChangeSecurityTypeOfARunningVm_RefusedBothWaysUntilDeallocated()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "tl1");
        JsonObject standard = ArmTestService.VmBody();
        standard["properties"]!["securityProfile"] = new JsonObject { ["securityType"] = "Standard" };
        await arm.CreateRunningAsync(group, "std1", standard.DeepClone().AsObject());

        JsonObject toStandard = ArmTestService.VmBody();
        toStandard["properties"]!["securityProfile"] = new JsonObject { ["securityType"] = "Standard" };
        JsonObject toTrustedLaunch = ArmTestService.VmBody();
        toTrustedLaunch["properties"]!["securityProfile"] = new JsonObject { ["securityType"] = "TrustedLaunch" };
        ArmAnswer down = await arm.PutVmAsync(group, "tl1", toStandard);
        ArmAnswer up = await arm.PutVmAsync(group, "std1", toTrustedLaunch);

        foreach (ArmAnswer answer in new[] { down, up })
        {
            Assert.True(answer.Status == HttpStatusCode.Conflict, answer.ToString());
            Assert.True(answer.ErrorCode == "SecurityTypeChangeRequiresDeallocation", answer.ToString());
            Assert.StartsWith("The security type can be changed only while the VM is deallocated", answer.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal("properties.securityProfile.securityType", answer.Error.GetProperty("target").GetString());
        }
    }

    [Fact]
    public async Task Put_UpgradeGen1Vm_RefusedWithTheReason()
    {
        string group = await arm.CreateGroupAsync();
        JsonObject gen1 = ArmTestService.VmBody(ArmTestService.Gen1Sku);
        gen1["properties"]!["securityProfile"] = new JsonObject { ["securityType"] = "Standard" };
        await arm.CreateRunningAsync(group, "gen1", gen1);
        await arm.ActAsync(group, "gen1", "deallocate");
        JsonObject upgrade = ArmTestService.VmBody(ArmTestService.Gen1Sku);
        upgrade["properties"]!["securityProfile"] = ArmTestService.TrustedLaunch(secureBoot: false, vTpm: true);

        ArmAnswer answer = await arm.PutVmAsync(group, "gen1", upgrade);

        Assert.True(answer.Status == HttpStatusCode.BadRequest, answer.ToString());
        JsonElement[] details = [.. answer.Error.GetProperty("details").EnumerateArray()];
        JsonElement gen2 = details.Single(d => d.GetProperty("code").GetString() == "TrustedLaunchUpgradeRequiresGen2");
        Assert.StartsWith("This VM is Generation 1: it boots with BIOS from an MBR disk", gen2.GetProperty("message").GetString(), StringComparison.Ordinal);
        ArmAnswer after = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "gen1")));
        Assert.False(after.Body.GetProperty("properties").TryGetProperty("securityProfile", out _), "the VM stays Standard");
    }

    [Fact]
    public async Task Put_OmittingSecurityProfile_KeepsTrustedLaunch()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "keep1");
        JsonObject body = ArmTestService.VmBody();
        body["tags"] = new JsonObject { ["env"] = "prod" };

        ArmAnswer updated = await arm.PutVmAsync(group, "keep1", body);

        Assert.Equal(HttpStatusCode.OK, updated.Status);
        Assert.Equal("TrustedLaunch", updated.Body.GetProperty("properties").GetProperty("securityProfile").GetProperty("securityType").GetString());
        Assert.Equal("prod", updated.Body.GetProperty("tags").GetProperty("env").GetString());
    }

    [Fact]
    public async Task Put_ChangeImageReference_Refused()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "img1");
        JsonObject body = ArmTestService.VmBody();
        body["properties"]!["storageProfile"]!["imageReference"]!["version"] = "1.0.0";

        ArmAnswer answer = await arm.PutVmAsync(group, "img1", body);

        Assert.Equal((HttpStatusCode.BadRequest, "ImageReferenceChangeNotAllowed"), (answer.Status, answer.ErrorCode));
        Assert.Equal("Changing property 'imageReference' is not allowed.", answer.Error.GetProperty("message").GetString());
        Assert.Equal("properties.storageProfile.imageReference", answer.Error.GetProperty("target").GetString());
    }

    [Fact]
    public async Task Put_ChangeSecureBootKeys_Refused()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "keys1");
        JsonObject body = ArmTestService.VmBody();
        body["properties"]!["trustedLaunchExtensions"] = new JsonObject
        {
            ["secureBootTemplate"] = "custom",
            ["secureBootKeys"] = new JsonObject { ["db"] = new JsonArray(HostedArmTestService.TestCertificate()) },
        };

        ArmAnswer answer = await arm.PutVmAsync(group, "keys1", body);

        Assert.Equal((HttpStatusCode.BadRequest, "SecureBootKeysChangeNotAllowed"), (answer.Status, answer.ErrorCode));
        Assert.Equal("properties.trustedLaunchExtensions.secureBootTemplate", answer.Error.GetProperty("target").GetString());
        Assert.StartsWith("Changing property 'trustedLaunchExtensions.secureBootTemplate' or 'trustedLaunchExtensions.secureBootKeys' is not allowed",
            answer.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_ToggleSecureBootAndVTpm_OnlyWhileDeallocated()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "sb1");
        JsonObject off = ArmTestService.VmBody();
        off["properties"]!["securityProfile"] = ArmTestService.TrustedLaunch(secureBoot: false, vTpm: true);

        ArmAnswer running = await arm.PutVmAsync(group, "sb1", off.DeepClone().AsObject());
        await arm.ActAsync(group, "sb1", "deallocate");
        ArmAnswer deallocated = await arm.PutVmAsync(group, "sb1", off);

        Assert.Equal((HttpStatusCode.Conflict, "UefiSettingsChangeRequiresDeallocation"), (running.Status, running.ErrorCode));
        Assert.Equal("Secure Boot and vTPM (securityProfile.uefiSettings) can be changed only while the VM is deallocated: deallocate it first, then update and start it.",
            running.Error.GetProperty("message").GetString());
        Assert.Equal("properties.securityProfile.uefiSettings", running.Error.GetProperty("target").GetString());
        Assert.Equal(HttpStatusCode.OK, deallocated.Status);
        JsonElement uefi = deallocated.Body.GetProperty("properties").GetProperty("securityProfile").GetProperty("uefiSettings");
        Assert.False(uefi.GetProperty("secureBootEnabled").GetBoolean());
        Assert.True(uefi.GetProperty("vTpmEnabled").GetBoolean());
        // Applied at once (nothing runs), then the next start carries it to the host.
        Assert.Equal("Succeeded", deallocated.Body.GetProperty("properties").GetProperty("provisioningState").GetString());
        await arm.ActAsync(group, "sb1", "start");
        JsonElement assignment = FakeHost.Assignment(await arm.Host.PollAsync(), "sb1");
        Assert.False(assignment.GetProperty("spec").GetProperty("secureBootEnabled").GetBoolean());
    }

    [Fact]
    public async Task Put_Resize_OnlyWhileDeallocated()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "size1");
        JsonObject bigger = ArmTestService.VmBody(size: "Standard_D4s_v3");

        ArmAnswer running = await arm.PutVmAsync(group, "size1", bigger.DeepClone().AsObject());
        await arm.ActAsync(group, "size1", "deallocate");
        ArmAnswer deallocated = await arm.PutVmAsync(group, "size1", bigger);

        Assert.Equal((HttpStatusCode.Conflict, "VmSizeChangeRequiresDeallocation"), (running.Status, running.ErrorCode));
        Assert.Equal("properties.hardwareProfile.vmSize", running.Error.GetProperty("target").GetString());
        Assert.Equal(HttpStatusCode.OK, deallocated.Status);
        Assert.Equal("Standard_D4s_v3", deallocated.Body.GetProperty("properties").GetProperty("hardwareProfile").GetProperty("vmSize").GetString());
    }
}
