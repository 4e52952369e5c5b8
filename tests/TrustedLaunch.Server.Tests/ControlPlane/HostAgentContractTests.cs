using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// What phase 2 added to the host contract and the VM resource, through HTTP with a host speaking the contract: the
/// attestation registry follows VM creation and deletion, the vTPM identity a host reports, attest-now requests,
/// Azure's boot diagnostics with the reported console, and the liveness window a host must poll within.
/// </summary>
public sealed class HostAgentContractTests(HostedArmTestService arm) : IClassFixture<HostedArmTestService>
{
    private static JsonObject TrustedLaunchVm(string? policy = null)
    {
        JsonObject body = ArmTestService.VmBody();
        JsonObject properties = body["properties"]!.AsObject();
        properties["securityProfile"] = ArmTestService.TrustedLaunch();
        if (policy is not null)
            properties["trustedLaunchExtensions"] = new JsonObject { ["referencePolicy"] = policy };
        return body;
    }

    private static JsonObject StandardVm()
    {
        JsonObject body = ArmTestService.VmBody();
        body["properties"]!.AsObject()["securityProfile"] = new JsonObject { ["securityType"] = "Standard" };
        return body;
    }

    private static Guid VmId(JsonElement vm) => Guid.Parse(vm.GetProperty("properties").GetProperty("vmId").GetString()!);

    [Fact]
    public async Task Create_TrustedLaunchVmWithVTpm_EnrolledWithItsPolicy_WithdrawnWhenItsHostReportsItDeleted()
    {
        string group = await arm.CreateGroupAsync();
        JsonElement vm = await arm.CreateRunningAsync(group, "enrolled", TrustedLaunchVm(ArmTestService.PolicyName));
        IVmRegistry registry = arm.Service.Service<IVmRegistry>();
        RegisteredVm? registered = await registry.GetAsync(VmId(vm), default);

        ArmAnswer deleting = await arm.SendAsync(HttpMethod.Delete, ArmTestService.WithApi(arm.VmPath(group, "enrolled")));
        await arm.Host.ConvergeAsync();

        Assert.Equal(ArmTestService.PolicyName, registered?.PolicyName);
        Assert.Equal(HttpStatusCode.Accepted, deleting.Status);
        Assert.Null(await registry.GetAsync(VmId(vm), default));
    }

    [Fact]
    public async Task Create_StandardVm_NotEnrolled()
    {
        string group = await arm.CreateGroupAsync();
        JsonElement vm = await arm.CreateRunningAsync(group, "plain", StandardVm());

        Assert.Null(await arm.Service.Service<IVmRegistry>().GetAsync(VmId(vm), default));
    }

    [Fact]
    public async Task ShieldedInstanceIdentity_BeforeAndAfterTheHostReportsTheVTpmKeys_409ThenGcpShape()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "ident", TrustedLaunchVm());
        string path = ArmTestService.WithApi(arm.VmPath(group, "ident") + "/shieldedInstanceIdentity");
        ArmAnswer before = await arm.GetAsync(path);

        JsonElement assignment = FakeHost.Assignment(await arm.Host.PollAsync(), "ident");
        JsonObject report = FakeHost.Report(assignment, "Running");
        report["vTpmKeys"] = new JsonArray(
            new JsonObject { ["role"] = "ek-rsa2048", ["algorithm"] = "rsa2048", ["publicKeyPem"] = "EK PUB", ["certificatePem"] = "EK CERT" },
            new JsonObject { ["role"] = "ak-rsa2048", ["algorithm"] = "rsa2048", ["publicKeyPem"] = "AK PUB", ["certificatePem"] = "AK CERT" });
        await arm.Host.ReportAsync(report);
        await arm.Host.ReportAsync(FakeHost.Report(assignment, "Running", bootVerdict: "booted")); // later reports keep the keys
        ArmAnswer after = await arm.GetAsync(path);

        Assert.Equal(HttpStatusCode.Conflict, before.Status);
        Assert.Equal("VTpmIdentityNotAvailable", before.ErrorCode);
        Assert.True(after.Status == HttpStatusCode.OK, after.ToString());
        Assert.Equal("EK CERT", after.Body.GetProperty("encryptionKey").GetProperty("ekCert").GetString());
        Assert.Equal("EK PUB", after.Body.GetProperty("encryptionKey").GetProperty("ekPub").GetString());
        Assert.Equal("AK CERT", after.Body.GetProperty("signingKey").GetProperty("ekCert").GetString());
        Assert.Equal(2, after.Body.GetProperty("keys").GetArrayLength());
    }

    [Fact]
    public async Task ShieldedInstanceIdentity_StandardVm_409OperationNotAllowed()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "noid", StandardVm());

        ArmAnswer answer = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "noid") + "/shieldedInstanceIdentity"));

        Assert.Equal(HttpStatusCode.Conflict, answer.Status);
        Assert.Equal("OperationNotAllowed", answer.ErrorCode);
    }

    [Fact]
    public async Task Attest_RunningTrustedLaunchVm_202ToTheLatestResult_AssignmentAttestationGenerationRises_EtagUnchanged()
    {
        string group = await arm.CreateGroupAsync();
        JsonElement vm = await arm.CreateRunningAsync(group, "att", TrustedLaunchVm());
        long before = FakeHost.Assignment(await arm.Host.PollAsync(), "att").GetProperty("attestationGeneration").GetInt64();

        ArmAnswer requested = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "att") + "/attest"));
        JsonElement after = FakeHost.Assignment(await arm.Host.PollAsync(), "att");
        ArmAnswer shown = await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "att")));

        Assert.True(requested.Status == HttpStatusCode.Accepted, requested.ToString());
        Assert.EndsWith($"/v1/vms/{VmId(vm):D}/attestations/latest", requested.Header("Location"), StringComparison.Ordinal);
        Assert.Equal(before + 1, after.GetProperty("attestationGeneration").GetInt64());
        Assert.Equal(vm.GetProperty("etag").GetString(), shown.Body.GetProperty("etag").GetString());
    }

    [Fact]
    public async Task Attest_StandardOrStoppedVm_409OperationNotAllowed()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "std", StandardVm());
        await arm.CreateRunningAsync(group, "off", TrustedLaunchVm());
        await arm.ActAsync(group, "off", "powerOff");

        ArmAnswer standard = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "std") + "/attest"));
        ArmAnswer stopped = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "off") + "/attest"));

        Assert.Equal("OperationNotAllowed", standard.ErrorCode);
        Assert.Contains("no vTPM", standard.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("OperationNotAllowed", stopped.ErrorCode);
        Assert.Contains("not running", stopped.Error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetrieveBootDiagnosticsData_PointsAtTheSerialConsoleLog_WhichIsTheTailTheHostReported()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "diag", TrustedLaunchVm());
        JsonObject report = FakeHost.Report(FakeHost.Assignment(await arm.Host.PollAsync(), "diag"), "Running", bootVerdict: "booted");
        report["consoleTail"] = "TL-GUEST: booted\n";
        await arm.Host.ReportAsync(report);

        ArmAnswer data = await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "diag") + "/retrieveBootDiagnosticsData"));
        string log = data.Body.GetProperty("serialConsoleLogBlobUri").GetString()!;
        using var http = new HttpClient();
        string text = await http.GetStringAsync(new Uri(log));

        Assert.Equal(HttpStatusCode.OK, data.Status);
        Assert.Equal("TL-GUEST: booted\n", text);
    }

    [Fact]
    public async Task Register_AnswerCarriesTheLivenessWindow()
    {
        JsonElement registered = await new FakeHost(arm, "liveness-host").RegisterAsync();

        Assert.Equal(90, registered.GetProperty("livenessWindowSeconds").GetInt32());
    }

    [Fact]
    public async Task AttestationGeneration_StoredAndReadBack()
    {
        string group = await arm.CreateGroupAsync();
        await arm.CreateRunningAsync(group, "gen", TrustedLaunchVm());
        await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "gen") + "/attest"));
        await arm.SendAsync(HttpMethod.Post, ArmTestService.WithApi(arm.VmPath(group, "gen") + "/attest"));

        VirtualMachineRecord? stored = await arm.Service.Service<IVirtualMachineStore>()
            .GetAsync(new VirtualMachineKey(arm.SubscriptionId, group, "gen"), default);

        Assert.Equal(2, stored?.AttestationGeneration);
    }
}
