using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Server.Tests.ControlPlane;

namespace TrustedLaunch.Server.Tests.Posture;

/// <summary>Assessments from the control plane alone (no attestation): applicability, remediation, secure score, and refused input.</summary>
public sealed class PostureApiTests : IAsyncLifetime
{
    private readonly PostureTestService _arm = new(caDirectory: null);

    public Task InitializeAsync() => _arm.InitializeAsync();

    public Task DisposeAsync() => _arm.DisposeAsync();

    [Fact]
    public async Task Gen1Vm_SecureBootAndVTpmNotApplicableWithTheCause()
    {
        (string group, string name, _) = await _arm.CreateRunningVmAsync(sku: ArmTestService.Gen1Sku);

        JsonElement secureBoot = await _arm.WaitForAssessmentAsync(group, name, Recommendations.SecureBoot.Key, "NotApplicable");
        JsonElement status = secureBoot.GetProperty("properties").GetProperty("status");
        Assert.Equal("Gen1VirtualMachine", status.GetProperty("cause").GetString());
        Assert.Equal("NotApplicable", (await _arm.AssessmentAsync(group, name, Recommendations.VTpm.Key)).GetProperty("properties").GetProperty("status").GetProperty("code").GetString());
        Assert.Equal(Recommendations.SecureBoot.Key, secureBoot.GetProperty("name").GetString());
        Assert.Equal("Microsoft.Security/assessments", secureBoot.GetProperty("type").GetString());
        Assert.EndsWith($"/virtualMachines/{name}/providers/Microsoft.Security/assessments/{Recommendations.SecureBoot.Key}", secureBoot.GetProperty("id").GetString(),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnsupportedSize_NotApplicable()
    {
        (string group, string name, _) = await _arm.CreateRunningVmAsync(size: "Standard_A4_v2");
        JsonElement secureBoot = await _arm.WaitForAssessmentAsync(group, name, Recommendations.SecureBoot.Key, "NotApplicable");
        Assert.Equal("VmSizeNotSupported", secureBoot.GetProperty("properties").GetProperty("status").GetProperty("cause").GetString());
    }

    [Fact]
    public async Task SecureBootOff_Unhealthy_RemediationDeallocatesUpdatesStarts_ThenHealthy()
    {
        (string group, string name, _) = await _arm.CreateRunningVmAsync(ArmTestService.TrustedLaunch(secureBoot: false));
        JsonElement unhealthy = await _arm.WaitForAssessmentAsync(group, name, Recommendations.SecureBoot.Key, "Unhealthy");
        Assert.Equal("SecureBootDisabled", unhealthy.GetProperty("properties").GetProperty("status").GetProperty("cause").GetString());
        Assert.Equal("Low", unhealthy.GetProperty("properties").GetProperty("metadata").GetProperty("severity").GetString());
        string assessment = $"{_arm.VmPath(group, name)}/providers/Microsoft.Security/assessments/{Recommendations.SecureBoot.Key}";

        ArmAnswer started = await _arm.SendAsync(HttpMethod.Post, assessment + "/remediate?api-version=2021-06-01");
        Assert.True(started.Status == HttpStatusCode.Accepted, started.ToString());
        JsonElement remediation = default;
        for (int i = 0; i < 200; i++)
        {
            await _arm.Host.ConvergeAsync();
            remediation = (await _arm.GetAsync(assessment + "/remediation?api-version=2021-06-01")).Body;
            if (remediation.GetProperty("status").GetString() != "InProgress")
                break;
            await Task.Delay(50);
        }

        Assert.True(remediation.GetProperty("status").GetString() == "Succeeded", remediation.ToString());
        JsonElement vm = (await _arm.GetAsync(ArmTestService.WithApi(_arm.VmPath(group, name)))).Body;
        Assert.True(vm.GetProperty("properties").GetProperty("securityProfile").GetProperty("uefiSettings").GetProperty("secureBootEnabled").GetBoolean());
        await _arm.WaitForAssessmentAsync(group, name, Recommendations.SecureBoot.Key, "Healthy");

        // Again: nothing to do.
        ArmAnswer again = await _arm.SendAsync(HttpMethod.Post, assessment + "/remediate?api-version=2021-06-01");
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Equal("SecureBootAlreadyEnabled", again.ErrorCode);
    }

    [Fact]
    public async Task Remediation_ImageWhoseBootLoaderSecureBootRefuses_409WithTheReason_VmUntouched()
    {
        // An image whose boot loader the firmware would refuse under the Microsoft keys (as tl secureboot verify judged it at registration).
        const string sku = "12-gen2-self-signed";
        await _arm.Service.Service<IImageStore>().SaveAsync(new ImageEntry
        {
            Publisher = "Debian", Offer = "debian-12", Sku = sku, Version = ImageVersion.TryParse("1.0.0", out ImageVersion v) ? v : default,
            FilePath = $"/var/lib/trustedlaunch/images/debian-12-{sku}-1.0.0.qcow2", Generation = HyperVGeneration.V2,
            SecureBoot = new SecureBootFinding(false, "EFI/BOOT/BOOTX64.EFI: signed by 'Test Key', not trusted by db"), RegisteredAt = DateTimeOffset.UnixEpoch,
        }, default);
        (string group, string name, _) = await _arm.CreateRunningVmAsync(ArmTestService.TrustedLaunch(secureBoot: false), sku: sku);
        await _arm.WaitForAssessmentAsync(group, name, Recommendations.SecureBoot.Key, "Unhealthy");
        string assessment = $"{_arm.VmPath(group, name)}/providers/Microsoft.Security/assessments/{Recommendations.SecureBoot.Key}";

        ArmAnswer refused = await _arm.SendAsync(HttpMethod.Post, assessment + "/remediate?api-version=2021-06-01");

        Assert.True(refused.Status == HttpStatusCode.Conflict, refused.ToString());
        Assert.Equal("SecureBootPreflightFailed", refused.ErrorCode);
        string message = refused.Error.GetProperty("message").GetString()!;
        Assert.Contains("would not boot", message, StringComparison.Ordinal); // the update path's own pre-flight (SecureBootPreflight)
        Assert.Contains("not trusted by db", message, StringComparison.Ordinal);
        JsonElement vm = (await _arm.GetAsync(ArmTestService.WithApi(_arm.VmPath(group, name)))).Body;
        Assert.False(vm.GetProperty("properties").GetProperty("securityProfile").GetProperty("uefiSettings").GetProperty("secureBootEnabled").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, (await _arm.GetAsync(assessment + "/remediation?api-version=2021-06-01")).Status);
    }

    [Fact]
    public async Task SecureScore_WeightsHealthyOverApplicable()
    {
        (string group, string name, _) = await _arm.CreateRunningVmAsync(ArmTestService.TrustedLaunch(secureBoot: false));
        await _arm.WaitForAssessmentAsync(group, name, Recommendations.SecureBoot.Key, "Unhealthy");

        JsonElement score = (await _arm.GetAsync($"{_arm.GroupPath(group)}/providers/Microsoft.Security/secureScores?api-version=2020-01-01")).Body
            .GetProperty("value")[0].GetProperty("properties");
        // Secure Boot (Low, 1) unhealthy, vTPM (Low, 1) healthy; agent, health and the two rollover ones NotApplicable (Secure Boot off).
        Assert.Equal(1, score.GetProperty("score").GetProperty("current").GetDouble());
        Assert.Equal(2, score.GetProperty("score").GetProperty("max").GetDouble());
        Assert.Equal(0.5, score.GetProperty("score").GetProperty("percentage").GetDouble());
        Assert.Equal(4, score.GetProperty("notApplicableAssessments").GetInt32());
    }

    public static TheoryData<string, string, string, string> BadRequests => new()
    {
        { "unknown key", "GET", "{vm}/providers/Microsoft.Security/assessments/00000000-0000-0000-0000-000000000000?api-version=2021-06-01", "assessmentName" },
        { "unknown status", "GET", "{p}/alerts?api-version=2022-01-01&status=Closed", "status" },
        { "unknown severity", "GET", "{p}/alerts?api-version=2022-01-01&severity=Critical", "severity" },
        { "unknown plan", "GET", "{p}/pricings/SqlServers?api-version=2024-01-01", "pricingName" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadInput_ArmStyle400WithTarget(string label, string method, string path, string target)
    {
        (string group, string name, _) = await _arm.CreateRunningVmAsync();
        ArmAnswer answer = await _arm.SendAsync(new HttpMethod(method), path.Replace("{vm}", _arm.VmPath(group, name), StringComparison.Ordinal)
            .Replace("{p}", _arm.Provider, StringComparison.Ordinal));
        Assert.True(answer.Status == HttpStatusCode.BadRequest, $"{label}: {answer}");
        Assert.Equal(target, answer.Error.GetProperty("target").GetString());
    }

    [Fact]
    public async Task BadBodies_EveryViolationWithItsTarget_Oversized413_MissingApiVersion400()
    {
        ArmAnswer rule = await _arm.SendAsync(HttpMethod.Put, $"{_arm.Provider}/alertsSuppressionRules/r1?api-version=2019-01-01-preview", new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["alertType"] = "TL_VM_Nope", ["reason"] = "Other", ["state"] = "On", ["colour"] = "red",
                ["suppressionAlertsScope"] = new JsonObject
                {
                    ["allOf"] = new JsonArray(new JsonObject { ["field"] = "entities.ip.address", ["in"] = new JsonArray("1.2.3.4") },
                        new JsonObject { ["field"] = "alertType", ["startsWith"] = "TL" }),
                },
            },
        });
        Assert.Equal(HttpStatusCode.BadRequest, rule.Status);
        Assert.Equal("MultipleErrorsOccurred", rule.ErrorCode);
        string[] targets = rule.Error.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("target").GetString()!).ToArray();
        Assert.Equal(["properties.colour", "properties.alertType", "properties.state", "properties.suppressionAlertsScope.allOf[0].field",
            "properties.suppressionAlertsScope.allOf[1].startsWith"], targets);

        ArmAnswer webhook = await _arm.SendAsync(HttpMethod.Put, $"{_arm.Provider}/webhookSubscriptions/w1?api-version=2024-01-01",
            new JsonObject { ["properties"] = new JsonObject { ["url"] = "https://user:hunter2@example.com/hook" } });
        Assert.Equal(HttpStatusCode.BadRequest, webhook.Status);
        Assert.Equal("properties.url", webhook.Error.GetProperty("target").GetString());
        Assert.DoesNotContain("hunter2", webhook.Body.ToString(), StringComparison.Ordinal);
        ArmAnswer scheme = await _arm.SendAsync(HttpMethod.Put, $"{_arm.Provider}/webhookSubscriptions/w1?api-version=2024-01-01",
            new JsonObject { ["properties"] = new JsonObject { ["url"] = "ftp://example.com/hook" } });
        Assert.Equal("properties.url", scheme.Error.GetProperty("target").GetString());

        ArmAnswer pricing = await _arm.SendAsync(HttpMethod.Put, $"{_arm.Provider}/pricings/VirtualMachines?api-version=2024-01-01",
            new JsonObject { ["properties"] = new JsonObject { ["pricingTier"] = "Premium" } });
        Assert.Equal("properties.pricingTier", pricing.Error.GetProperty("target").GetString());

        var huge = new JsonObject { ["properties"] = new JsonObject { ["comment"] = new string('x', 70_000) } };
        ArmAnswer tooLarge = await _arm.SendAsync(HttpMethod.Put, $"{_arm.Provider}/alertsSuppressionRules/r2?api-version=2019-01-01-preview", huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.Status);
        Assert.Equal("RequestEntityTooLarge", tooLarge.ErrorCode);

        ArmAnswer noVersion = await _arm.GetAsync($"{_arm.Provider}/alerts");
        Assert.Equal("MissingApiVersionParameter", noVersion.ErrorCode);
        ArmAnswer badVersion = await _arm.GetAsync($"{_arm.Provider}/alerts?api-version=2015-01-01");
        Assert.Equal("NoRegisteredProviderFound", badVersion.ErrorCode);
    }
}
