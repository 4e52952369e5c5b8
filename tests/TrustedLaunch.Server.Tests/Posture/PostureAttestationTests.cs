using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CloudNative.CloudEvents;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Tests.ControlPlane;
using TrustedLaunch.Server.Tests.Http;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Posture;

/// <summary>
/// Alerts from real attestations: VMs created through the ARM API, their vTPM's evidence quoted by swtpm over real QEMU
/// boot logs (the Secure-Boot-off boot as OVMF measures it, a foreign AK, the host's agent-unresponsive report, the
/// refused <c>ttyprintk</c> module the agent reports), posted to the HTTP API; webhooks received by a real Kestrel receiver.
/// </summary>
[IntegrationTest]
[Collection(ServerEvidenceGroup.Name)]
public sealed class PostureAttestationTests(GenuineEvidenceFactory factory) : IAsyncLifetime
{
    private const string Capture = AttestationApiTests.SecureBootCapture;
    private readonly PostureTestService _arm = new(factory.CaDirectory);

    public Task InitializeAsync() => _arm.InitializeAsync();

    public Task DisposeAsync() => _arm.DisposeAsync();

    private ServiceUnderTest Service => _arm.Service;

    /// <summary>A challenge for <paramref name="vmId"/>, the vTPM holding <paramref name="log"/>'s boot, its quote with an AK certificate for <paramref name="akFor"/>.</summary>
    private async Task<(HttpStatusCode Status, JsonElement Body)> AttestAsync(Guid vmId, byte[] log, Guid? akFor = null)
    {
        byte[] nonce = await Service.ChallengeAsync(vmId);
        AttestationEvidence evidence = factory.Attest(log, nonce, factory.Certify(akFor ?? vmId, factory.Ca));
        (HttpStatusCode status, JsonElement body, _) = await Service.AttestAsync(vmId, EvidenceJson.Serialize(evidence));
        return (status, body);
    }

    private async Task<(string Group, string Name, Guid VmId)> AttestedVmAsync()
    {
        (string group, string name, Guid vmId) = await _arm.CreateRunningVmAsync();
        await Service.RegisterAsync(vmId);
        return (group, name, vmId);
    }

    [Fact]
    public async Task SecureBootOffBoot_MediumAlertNamingPcr7_ModuleAlert_SignedCloudEvent_LaterPassAddedNotResolved()
    {
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync();
        await _arm.SetPlanAsync("Standard");
        ArmAnswer hook = await _arm.SendAsync(HttpMethod.Put, $"{_arm.Provider}/webhookSubscriptions/soc?api-version=2024-01-01", new JsonObject
        {
            ["properties"] = new JsonObject { ["url"] = receiver.Url, ["secret"] = "s3cret-for-hmac-tests", ["alertTypes"] = new JsonArray("TL_VM_AttestationFailed"),
                ["eventTypes"] = new JsonArray(SecurityEvents.AlertCreated) },
        });
        Assert.Equal(HttpStatusCode.Created, hook.Status);
        (string group, string name, Guid vmId) = await AttestedVmAsync();
        byte[] secureBootOn = GenuineEvidenceFactory.CaptureLog(Capture);

        Assert.Equal(HttpStatusCode.OK, (await AttestAsync(vmId, secureBootOn)).Status); // baseline learned
        (HttpStatusCode status, JsonElement problem) = await AttestAsync(vmId, EventLogEditor.WithSecureBootDisabled(secureBootOn));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("BaselineDeviation", problem.GetProperty("reason").GetString());

        JsonElement[] alerts = await _arm.WaitForAlertsAsync(a => a.Any(x => PostureTestService.Properties(x).GetProperty("alertType").GetString() == "TL_VM_AttestationFailed"));
        JsonElement failed = alerts.Single(a => PostureTestService.Properties(a).GetProperty("alertType").GetString() == "TL_VM_AttestationFailed");
        JsonElement p = PostureTestService.Properties(failed);
        Assert.Equal("Medium", p.GetProperty("severity").GetString());
        Assert.Equal("Active", p.GetProperty("status").GetString());
        Assert.Equal("Attestation failed your virtual machine", p.GetProperty("alertDisplayName").GetString());
        Assert.Equal(name, p.GetProperty("compromisedEntity").GetString());
        Assert.Equal("BaselineDeviation", PostureTestService.Extended(failed, "reason"));
        Assert.Equal("7", PostureTestService.Extended(failed, "pcr"));
        Assert.Equal("Early", PostureTestService.Extended(failed, "stage"));
        Assert.Equal("sha256", PostureTestService.Extended(failed, "bank"));
        Assert.NotEqual(PostureTestService.Extended(failed, "expectedValue"), PostureTestService.Extended(failed, "actualValue"));
        Assert.StartsWith("PCR 7: Secure Boot disabled", PostureTestService.Extended(failed, "explanation"), StringComparison.Ordinal);
        Assert.Equal("tabularEvidences", p.GetProperty("supportingEvidence").GetProperty("type").GetString());
        Assert.EndsWith($"/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/{name}",
            p.GetProperty("resourceIdentifiers")[0].GetProperty("azureResourceId").GetString(), StringComparison.Ordinal);
        string alertId = failed.GetProperty("id").GetString()!;
        Assert.Contains("/providers/Microsoft.Security/locations/westus/alerts/", alertId, StringComparison.Ordinal);

        // The agent's evidence reports ttyprintk refused: a Low alert naming the module.
        JsonElement module = alerts.Single(a => PostureTestService.Properties(a).GetProperty("alertType").GetString() == "TL_VM_UntrustedKernelModule");
        Assert.Equal("Low", PostureTestService.Properties(module).GetProperty("severity").GetString());
        Assert.Equal("ttyprintk", PostureTestService.Extended(module, "module"));
        Assert.Equal("unsigned", PostureTestService.Extended(module, "signer"));
        Assert.Equal("Loading of unsigned module is rejected", PostureTestService.Extended(module, "kernelMessage"));

        // The receiver got the attestation-failed alert (its filter leaves the module alert out), signed and as a CloudEvent.
        (IReadOnlyDictionary<string, string> headers, byte[] body) = await WaitForAsync(receiver, 1);
        Assert.StartsWith(SecurityEvents.MediaType, headers["content-type"], StringComparison.Ordinal);
        Assert.True(WebhookSignature.Verify(headers["webhook-id"], headers["webhook-timestamp"], body, "s3cret-for-hmac-tests", headers["webhook-signature"]));
        Assert.False(WebhookSignature.Verify(headers["webhook-id"], headers["webhook-timestamp"], body, "another-secret-entirely", headers["webhook-signature"]));
        CloudEvent cloudEvent = SecurityEvents.Decode(body);
        Assert.Equal(CloudEventsSpecVersion.V1_0, cloudEvent.SpecVersion);
        Assert.Equal(headers["webhook-id"], cloudEvent.Id);
        Assert.Equal(SecurityEvents.AlertCreated, cloudEvent.Type);
        Assert.Equal(alertId, cloudEvent.Subject);
        Assert.Equal("TL_VM_AttestationFailed", cloudEvent["alerttype"]);
        var data = (JsonElement)cloudEvent.Data!;
        Assert.Equal("7", data.GetProperty("properties").GetProperty("extendedProperties").GetProperty("pcr").GetString());

        // A later pass does not resolve the alert: it is written into it. A repeat counts, never duplicates.
        Assert.Equal(HttpStatusCode.OK, (await AttestAsync(vmId, secureBootOn)).Status);
        alerts = await _arm.WaitForAlertsAsync(a => a.Any(x => x.GetProperty("name").GetString() == failed.GetProperty("name").GetString()
            && PostureTestService.Properties(x).GetProperty("extendedProperties").TryGetProperty("passesSinceAlert", out _)));
        JsonElement afterPass = alerts.Single(a => a.GetProperty("name").GetString() == failed.GetProperty("name").GetString());
        Assert.Equal("Active", PostureTestService.Properties(afterPass).GetProperty("status").GetString());
        Assert.Equal("1", PostureTestService.Extended(afterPass, "passesSinceAlert"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await AttestAsync(vmId, EventLogEditor.WithSecureBootDisabled(secureBootOn))).Status);
        alerts = await _arm.WaitForAlertsAsync(a => a.Any(x => x.GetProperty("name").GetString() == failed.GetProperty("name").GetString()
            && PostureTestService.Extended(x, "occurrences") == "2"));
        Assert.Single(alerts, a => PostureTestService.Properties(a).GetProperty("alertType").GetString() == "TL_VM_AttestationFailed");

        // Status actions: Active → InProgress → Resolved (204 each).
        string local = alertId[alertId.IndexOf("/subscriptions", StringComparison.Ordinal)..].Replace($"/resourceGroups/{group}", "", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, (await _arm.SendAsync(HttpMethod.Post, $"{local}/inProgress?api-version=2022-01-01")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await _arm.SendAsync(HttpMethod.Post, $"{local}/resolve?api-version=2022-01-01")).Status);
        Assert.Equal("Resolved", PostureTestService.Properties((await _arm.GetAsync($"{local}?api-version=2022-01-01")).Body).GetProperty("status").GetString());
        ArmAnswer bad = await _arm.SendAsync(HttpMethod.Post, $"{local}/close?api-version=2022-01-01");
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Equal("action", bad.Error.GetProperty("target").GetString());
    }

    [Fact]
    public async Task ForeignAk_QuoteNotFromThisVm_AgentUnresponsive_EachItsReason()
    {
        await _arm.SetPlanAsync("Standard");
        (_, _, Guid vmId) = await AttestedVmAsync();

        (HttpStatusCode status, JsonElement problem) = await AttestAsync(vmId, GenuineEvidenceFactory.CaptureLog(Capture), akFor: Guid.NewGuid());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("AkNotFromThisVm", problem.GetProperty("reason").GetString());
        using HttpResponseMessage silent = await Service.Client.PostAsync($"/v1/vms/{vmId}/attestations:agent-unresponsive",
            new StringContent("{\"message\":\"no answer within 30 s\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, silent.StatusCode);

        JsonElement[] alerts = await _arm.WaitForAlertsAsync(a => a.Length >= 2, "&severity=Medium");
        JsonElement quote = alerts.Single(a => PostureTestService.Extended(a, "reason") == "QuoteNotFromVm");
        Assert.Equal("AkNotFromThisVm", PostureTestService.Extended(quote, "verifierReason"));
        Assert.StartsWith("AK certificate", PostureTestService.Extended(quote, "component"), StringComparison.Ordinal);
        JsonElement agent = alerts.Single(a => PostureTestService.Extended(a, "reason") == "AgentUnresponsive");
        Assert.Equal("no answer within 30 s", PostureTestService.Extended(agent, "message"));
        Assert.All(alerts, a => Assert.Equal("TL_VM_AttestationFailed", PostureTestService.Properties(a).GetProperty("alertType").GetString()));
    }

    [Fact]
    public async Task PassedAttestation_RolloverRecommendationsJudgeTheKeysPcr7Proved()
    {
        (string group, string name, Guid vmId) = await AttestedVmAsync();
        Assert.Equal(HttpStatusCode.OK, (await AttestAsync(vmId, GenuineEvidenceFactory.CaptureLog(Capture))).Status);

        // Debian's OVMF_VARS_4M.ms.fd of the capture enrols Microsoft's 2011 KEK and CAs only.
        JsonElement certificates = await _arm.WaitForAssessmentAsync(group, name, SecureBootRolloverRecommendations.Certificates2023.Key, "Unhealthy");
        JsonElement status = certificates.GetProperty("properties").GetProperty("status");
        Assert.Equal(SecureBootRolloverEvaluator.Causes.Missing2023Certificates, status.GetProperty("cause").GetString());
        Assert.Contains("Microsoft UEFI CA 2023", status.GetProperty("description").GetString(), StringComparison.Ordinal);
        JsonElement dbx = await _arm.WaitForAssessmentAsync(group, name, SecureBootRolloverRecommendations.DbxCurrent.Key, "NotApplicable");
        Assert.Equal(SecureBootRolloverEvaluator.Causes.NoDbxUpdateLoaded, dbx.GetProperty("properties").GetProperty("status").GetProperty("cause").GetString());
    }

    [Fact]
    public async Task PlanFree_ModuleFindingRaisesNoAlert_AssessmentsStillEvaluated()
    {
        (string group, string name, Guid vmId) = await AttestedVmAsync();
        JsonElement unhealthy = await _arm.WaitForAssessmentAsync(group, name, Recommendations.GuestAttestationAgent.Key, "Unhealthy");
        Assert.Equal("AgentNotAnswering", unhealthy.GetProperty("properties").GetProperty("status").GetProperty("cause").GetString());

        Assert.Equal(HttpStatusCode.OK, (await AttestAsync(vmId, GenuineEvidenceFactory.CaptureLog(Capture))).Status);

        JsonElement health = await _arm.WaitForAssessmentAsync(group, name, Recommendations.AttestationHealth.Key, "Healthy");
        Assert.Equal("Medium", health.GetProperty("properties").GetProperty("metadata").GetProperty("severity").GetString());
        await _arm.WaitForAssessmentAsync(group, name, Recommendations.GuestAttestationAgent.Key, "Healthy");
        Assert.Empty(await _arm.AlertsAsync());
        JsonElement history = (await _arm.GetAsync($"{_arm.VmPath(group, name)}/providers/Microsoft.Security/assessments/{Recommendations.GuestAttestationAgent.Key}/statusHistory?api-version=2021-06-01")).Body;
        // Once each; a NotApplicable (VmNotRunning) first when the worker saw the VM before its host started it.
        JsonElement[] changes = history.GetProperty("value").EnumerateArray().ToArray();
        Assert.All(changes.TakeWhile(h => h.GetProperty("code").GetString() == "NotApplicable"),
            h => Assert.Equal("VmNotRunning", h.GetProperty("cause").GetString()));
        Assert.Equal(["Unhealthy", "Healthy"], changes.Select(h => h.GetProperty("code").GetString()).SkipWhile(c => c == "NotApplicable"));

        // Fresh for three intervals (60 s each), then stale.
        Service.Clock.Advance(TimeSpan.FromSeconds(181));
        await _arm.Service.Service<PostureEngine>().RunOnceAsync(fullSweep: true, default);
        JsonElement stale = await _arm.WaitForAssessmentAsync(group, name, Recommendations.AttestationHealth.Key, "Unhealthy");
        Assert.Equal("AttestationStale", stale.GetProperty("properties").GetProperty("status").GetProperty("cause").GetString());
    }

    [Fact]
    public async Task SuppressionRule_DismissesWithoutWebhook_AfterExpiryTheNextAlertNotifies()
    {
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync();
        await _arm.SetPlanAsync("Standard");
        Assert.Equal(HttpStatusCode.Created, (await _arm.SendAsync(HttpMethod.Put, $"{_arm.Provider}/webhookSubscriptions/all?api-version=2024-01-01",
            new JsonObject { ["properties"] = new JsonObject { ["url"] = receiver.Url, ["secret"] = "0123456789abcdef-secret" } })).Status);
        (string group, _, Guid vmId) = await AttestedVmAsync();
        DateTimeOffset expiry = Service.Clock.GetUtcNow().AddHours(1);
        ArmAnswer rule = await _arm.SendAsync(HttpMethod.Put, $"{_arm.Provider}/alertsSuppressionRules/ttyprintk-known?api-version=2019-01-01-preview", new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["alertType"] = "TL_VM_UntrustedKernelModule", ["reason"] = "Benign", ["state"] = "Enabled", ["comment"] = "test images carry it",
                ["expirationDateUtc"] = expiry.ToString("O"),
                ["suppressionAlertsScope"] = new JsonObject
                {
                    ["allOf"] = new JsonArray(
                        new JsonObject { ["field"] = "entities.file.name", ["in"] = new JsonArray("ttyprintk") },
                        new JsonObject { ["field"] = "entities.azureResource.resourceGroup", ["in"] = new JsonArray(group) }),
                },
            },
        });
        Assert.True(rule.Status == HttpStatusCode.OK, rule.ToString());

        Assert.Equal(HttpStatusCode.OK, (await AttestAsync(vmId, GenuineEvidenceFactory.CaptureLog(Capture))).Status);
        JsonElement[] alerts = await _arm.WaitForAlertsAsync(a => a.Length == 1);
        Assert.Equal("Dismissed", PostureTestService.Properties(alerts[0]).GetProperty("status").GetString());
        Assert.Equal("ttyprintk-known", PostureTestService.Extended(alerts[0], "suppressedBy"));
        await Task.Delay(700); // the dispatcher runs every 100 ms: nothing may arrive
        Assert.DoesNotContain(receiver.Received, r => Encoding.UTF8.GetString(r.Body).Contains("TL_VM_UntrustedKernelModule", StringComparison.Ordinal));

        Service.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal("Expired", (await _arm.GetAsync($"{_arm.Provider}/alertsSuppressionRules/ttyprintk-known?api-version=2019-01-01-preview"))
            .Body.GetProperty("properties").GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.OK, (await AttestAsync(vmId, GenuineEvidenceFactory.CaptureLog(Capture))).Status);
        alerts = await _arm.WaitForAlertsAsync(a => a.Any(x => PostureTestService.Properties(x).GetProperty("status").GetString() == "Active"));
        (_, byte[] body) = await WaitForAsync(receiver, 1, b => Encoding.UTF8.GetString(b).Contains("TL_VM_UntrustedKernelModule", StringComparison.Ordinal));
        Assert.Equal(SecurityEvents.AlertCreated, SecurityEvents.Decode(body).Type);
    }

    [Fact]
    public async Task FailingReceiver_RetriedWithBackoff_ThenDisabled()
    {
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync(failing: true);
        await _arm.SetPlanAsync("Standard");
        await _arm.SendAsync(HttpMethod.Put, $"{_arm.Provider}/webhookSubscriptions/dead?api-version=2024-01-01",
            new JsonObject { ["properties"] = new JsonObject { ["url"] = receiver.Url } });
        (_, _, Guid vmId) = await AttestedVmAsync();
        using (await Service.Client.PostAsync($"/v1/vms/{vmId}/attestations:agent-unresponsive", null))
        {
        }

        Assert.Equal(HttpStatusCode.OK, (await AttestAsync(vmId, GenuineEvidenceFactory.CaptureLog(Capture))).Status); // + module alert, + pass on the first

        JsonElement webhook = default;
        for (int i = 0; i < 200; i++)
        {
            webhook = (await _arm.GetAsync($"{_arm.Provider}/webhookSubscriptions/dead?api-version=2024-01-01")).Body;
            if (webhook.GetProperty("properties").GetProperty("state").GetString() == "Disabled")
                break;
            await Task.Delay(50);
        }

        Assert.Equal("Disabled", webhook.GetProperty("properties").GetProperty("state").GetString());
        Assert.Contains("failed deliveries in a row", webhook.GetProperty("properties").GetProperty("disabledReason").GetString(), StringComparison.Ordinal);
        JsonElement log = (await _arm.GetAsync($"{_arm.Provider}/webhookSubscriptions/dead/deliveries?api-version=2024-01-01")).Body;
        JsonElement[] attempts = log.GetProperty("value").EnumerateArray().ToArray();
        // Two events failed, each after 1 + 2 retries; every attempt logged with the receiver's 500.
        Assert.Equal(6, attempts.Length);
        Assert.All(attempts, a => Assert.Equal(500, a.GetProperty("statusCode").GetInt32()));
        Assert.Equal(3, attempts.GroupBy(a => a.GetProperty("eventId").GetString()).First().Count());
        Assert.Equal(6, receiver.Received.Count);
        // The subscription's secret was generated by the service and never shown again.
        Assert.False(webhook.GetProperty("properties").TryGetProperty("secret", out _));
        // The failures are counted for Prometheus (at least: every service of this process is seen by every exporter).
        string metrics = await Service.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.True(Telemetry.PrometheusText.Sum(metrics, "tl_webhook_deliveries_total", ("outcome", "failed")) >= 2, metrics);
        Assert.True(Telemetry.PrometheusText.Sum(metrics, "tl_webhook_attempts_total") >= 6, metrics);
    }

    [Fact]
    public async Task ServerRestartedMidStream_NoAlertLostNoneDuplicated()
    {
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync();
        await _arm.SetPlanAsync("Standard");
        await _arm.SendAsync(HttpMethod.Put, $"{_arm.Provider}/webhookSubscriptions/soc?api-version=2024-01-01",
            new JsonObject { ["properties"] = new JsonObject { ["url"] = receiver.Url, ["eventTypes"] = new JsonArray(SecurityEvents.AlertCreated) } });
        var vms = new List<Guid>();
        for (int i = 0; i < 3; i++)
            vms.Add((await AttestedVmAsync()).VmId);

        // Results stored, then the service stops at once: the posture worker may or may not have seen them.
        foreach (Guid vmId in vms)
        {
            using (await Service.Client.PostAsync($"/v1/vms/{vmId}/attestations:agent-unresponsive", null))
            {
            }
        }

        await Service.RestartAsync();
        foreach (Guid vmId in vms)
        {
            using (await Service.Client.PostAsync($"/v1/vms/{vmId}/attestations:agent-unresponsive", null))
            {
            }
        }

        JsonElement[] alerts = await _arm.WaitForAlertsAsync(a => a.Length == 3 && a.All(x => PostureTestService.Extended(x, "occurrences") == "2"));
        Assert.Equal(3, alerts.Select(a => PostureTestService.Extended(a, "vmId")).Distinct().Count());
        await Service.RestartAsync();
        (_, _) = await WaitForAsync(receiver, 3);
        string[] ids = receiver.Received.Select(r => r.Headers["webhook-id"]).ToArray();
        string[] subjects = receiver.Received.Select(r => SecurityEvents.Decode(r.Body).Subject!).Distinct().ToArray();
        Assert.Equal(3, subjects.Length);
        Assert.Equal(alerts.Select(a => a.GetProperty("id").GetString()).Order(), subjects.Order());
        Assert.Equal(ids.Length, ids.Distinct().Count() + (ids.Length - ids.Distinct().Count())); // at least once: duplicates carry the same id
        Assert.Equal(3, ids.Distinct().Count());
    }

    private static async Task<(IReadOnlyDictionary<string, string> Headers, byte[] Body)> WaitForAsync(WebhookReceiver receiver, int count,
        Func<byte[], bool>? which = null)
    {
        for (int i = 0; i < 200; i++)
        {
            var matching = receiver.Received.Where(r => which is null || which(r.Body)).ToArray();
            if (matching.Length >= count)
                return matching[0];
            await Task.Delay(50);
        }

        Assert.Fail($"the receiver got {receiver.Received.Count} deliveries");
        return default;
    }
}
