using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Posture.Inputs;
using TrustedLaunch.SecureBoot.Rollover;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Testing;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Server.Tests.Http;

/// <summary>
/// The certificate rollover as attestation sees it, with two real boots of the same chain that differ only in PCR 7:
/// Debian's Microsoft 2011 store, and that store after <c>tl vmgs update-keys --template microsoft --dbx-update
/// DBXUpdate.bin</c> (tests/corpus/README.md). The sanctioned change relearns the baseline for its operation; any other
/// PCR 7 change still deviates; the rollover recommendation turns from Unhealthy to Healthy on the attested keys.
/// </summary>
[Collection(ServerEvidenceGroup.Name)]
[IntegrationTest]
public sealed class KeyChangeApiTests(GenuineEvidenceFactory factory) : RegisteredVmServiceTests(factory)
{
    private const string Before = "ovmf4m-ms2011-sb-crb";
    private const string After = "ovmf4m-ms-rolled-sb-crb";
    private static readonly DbxRelease Release = new("DBXUpdate.bin", 443);

    [Fact]
    public async Task Rollover_SanctionedPcr7ChangeRelearnedForTheOperation_OthersStillDeviate_PostureTurnsHealthy()
    {
        JsonElement first = await Service.AttestExpectingAsync(Factory, HttpStatusCode.OK, Before);
        Assert.True(first.GetProperty("baselineLearned").GetBoolean());
        SecureBootKeys old = SecureBootKeysClaim.Read(first.GetProperty("claims"))!;
        var unhealthy = SecureBootRolloverEvaluator.Evaluate(Vm(), old, Release);
        Assert.Equal([AssessmentStatusCode.Unhealthy, AssessmentStatusCode.Unhealthy], unhealthy.Select(o => o.Code));

        // Unsanctioned: the new keys are a PCR 7 deviation, and only that.
        JsonElement unsanctioned = await Service.AttestExpectingAsync(Factory, HttpStatusCode.UnprocessableEntity, After);
        Assert.Equal("BaselineDeviation", unsanctioned.GetProperty("reason").GetString());
        Assert.Equal([7], unsanctioned.GetProperty("deviations").EnumerateArray().Select(d => d.GetProperty("pcr").GetInt32()));

        // A sanction for other keys (one KEK short) does not excuse it.
        ExpectedAttestedKeys expected = ExpectedAttestedKeys.From(OvmfVariableStore.LoadFile(
            Path.Combine(RepositoryPaths.CorpusRoot, "qemu", After, "OVMF_VARS.before.fd")));
        Assert.Equal(HttpStatusCode.Accepted, await ArmAsync("op-wrong", expected with { Kek = expected.Kek.Skip(1).ToArray() }));
        await Service.AttestExpectingAsync(Factory, HttpStatusCode.UnprocessableEntity, After);

        // The sanction update-keys reports: the next boot passes and relearns the baseline, attributed to the operation.
        Assert.Equal(HttpStatusCode.Accepted, await ArmAsync("op-rollover-1", expected));
        JsonElement passed = await Service.AttestExpectingAsync(Factory, HttpStatusCode.OK, After);
        Assert.True(passed.GetProperty("baselineLearned").GetBoolean());
        StoredBaseline stored = (await Service.Service<IBaselineStore>().GetAsync(VmId, CancellationToken.None))!;
        AttestationBaseline relearned = AttestationBaseline.FromJson(Encoding.UTF8.GetBytes(stored.BaselineJson));
        Assert.Equal("op-rollover-1", relearned.LearnedForOperation);
        Assert.Null(relearned.PendingKeyChange);

        // The token shows the new keys; the recommendations turn Healthy.
        SecureBootKeys rolled = SecureBootKeysClaim.Read(passed.GetProperty("claims"))!;
        Assert.Contains(rolled.Kek, k => k.Sha256 == MicrosoftSecureBootKeys.KekCa2023);
        Assert.Contains(rolled.Db, k => k.Sha256 == MicrosoftSecureBootKeys.UefiCa2023);
        Assert.Equal(444, rolled.DbxCount);
        Assert.All(SecureBootRolloverEvaluator.Evaluate(Vm(), rolled, Release), o => Assert.Equal(AssessmentStatusCode.Healthy, o.Code));

        // Steady afterwards; going back to the old keys is an unsanctioned PCR 7 change again.
        Assert.False((await Service.AttestExpectingAsync(Factory, HttpStatusCode.OK, After)).GetProperty("baselineLearned").GetBoolean());
        JsonElement back = await Service.AttestExpectingAsync(Factory, HttpStatusCode.UnprocessableEntity, Before);
        Assert.Equal([7], back.GetProperty("deviations").EnumerateArray().Select(d => d.GetProperty("pcr").GetInt32()));
    }

    [Fact]
    public async Task Arm_BadBodyUnknownVmOrNoBaseline()
    {
        ExpectedAttestedKeys keys = new(["a"], ["b"], 1, new string('0', 64));
        using (HttpResponseMessage bad = await Service.Client.PostAsJsonAsync($"/v1/vms/{VmId}/baseline:key-change", new { operationId = "x" }))
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, await ArmAsync("op", keys, Guid.NewGuid()));
        using HttpResponseMessage none = await Post("op", keys, VmId);
        Assert.Equal(HttpStatusCode.Accepted, none.StatusCode);
        Assert.False((await none.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("armed").GetBoolean());
    }

    private async Task<HttpStatusCode> ArmAsync(string operationId, ExpectedAttestedKeys keys, Guid? vmId = null)
    {
        using HttpResponseMessage response = await Post(operationId, keys, vmId ?? VmId);
        return response.StatusCode;
    }

    private Task<HttpResponseMessage> Post(string operationId, ExpectedAttestedKeys keys, Guid vmId) =>
        Service.Client.PostAsJsonAsync($"/v1/vms/{vmId}/baseline:key-change",
            new { operationId, kek = keys.Kek, db = keys.Db, dbxCount = keys.DbxCount, dbxDigest = keys.DbxDigest });

    private PostureVm Vm() => new()
    {
        ResourceId = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", SubscriptionId = "s", ResourceGroup = "rg",
        Name = "vm1", VmId = VmId, Location = "local", TrustedLaunch = true, SecureBootEnabled = true, VTpmEnabled = true,
        Generation = VmGeneration.V2, VmSize = "Standard_D2s_v5", Running = true,
    };
}
