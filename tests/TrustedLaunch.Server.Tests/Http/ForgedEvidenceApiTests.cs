using System.Net;
using System.Text;
using System.Text.Json;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Testing;
using TrustedLaunch.Attestation.Tests.Verification;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Tcg.EventLog;

namespace TrustedLaunch.Server.Tests.Http;

/// <summary>
/// Issue 11's forgeries through <c>tl server</c>: genuine quotes with edited logs are refused with their reason, and
/// a forged first boot never becomes the VM's learned baseline; a quote older than the VM's newest, answering a
/// challenge fetched in advance, is refused; a body with a key given twice is a 400.
/// </summary>
[IntegrationTest]
[Collection(ServerEvidenceGroup.Name)]
public sealed class ForgedEvidenceApiTests(GenuineEvidenceFactory factory) : RegisteredVmServiceTests(factory)
{
    /// <summary>A challenge from the service, the vTPM holding <paramref name="boot"/>, and <paramref name="shown"/> as the evidence's log.</summary>
    private async Task<byte[]> ForgeAsync(ForgedLog boot, ForgedLog shown)
    {
        byte[] nonce = await Service.ChallengeAsync(VmId);
        AttestationEvidence evidence = Factory.Attest(boot.ToBytes(), nonce) with { TcgLog = shown.ToBytes() };
        return EvidenceJson.Serialize(evidence);
    }

    public static TheoryData<string> Forgeries => ["authority moved after the images", "kernel command line relabelled", "clean command line extended after boot"];

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task Attest_ForgedFirstBoot_RefusedAndNeverLearnedAsTheBaseline(string forgery)
    {
        ForgedLog boot = forgery switch
        {
            "clean command line extended after boot" => LogForgeryTests.AppendGrub(LogForgeryTests.AppendGrub(LogForgeryTests.KernelDebugBoot,
                "grub_cmd: ", "linux /vmlinuz console=ttyS0 quiet panic=-1"), "kernel_cmdline: ", "/vmlinuz console=ttyS0 quiet panic=-1"),
            "kernel command line relabelled" => LogForgeryTests.KernelDebugBoot,
            _ => LogForgeryTests.Capture,
        };
        ForgedLog shown = boot;
        if (forgery == "kernel command line relabelled")
        {
            int cmdline = boot.Find(r => r.Pcr == 8 && r.Text.StartsWith("kernel_cmdline: ", StringComparison.Ordinal));
            shown = boot.WithData(cmdline, Encoding.ASCII.GetBytes("grub_cmd: " + boot.Records[cmdline].Text["kernel_cmdline: ".Length..] + "\0"));
        }
        else if (forgery == "authority moved after the images")
        {
            await Service.Client.PutAsync("/v1/policies/ms-only", new StringContent(
                "{\"name\":\"ms-only\",\"allowedAuthorities\":[\"Microsoft Corporation UEFI CA 2011\"]}", Encoding.UTF8, "application/json"));
            using HttpResponseMessage assigned = await Service.Client.PutAsync($"/v1/vms/{VmId}/policy",
                new StringContent("{\"name\":\"ms-only\"}", Encoding.UTF8, "application/json"));
            Assert.True(assigned.IsSuccessStatusCode, await assigned.Content.ReadAsStringAsync());
            int mokList = boot.Find(r => r.Pcr == 7 && r.Type == TcgEventType.EfiVariableAuthority && Encoding.Unicode.GetString(r.Data).Contains("MokListRT", StringComparison.Ordinal));
            shown = boot.Move(mokList, boot.Records.Count - 1);
        }

        (HttpStatusCode status, JsonElement problem, _) = await Service.AttestAsync(VmId, await ForgeAsync(boot, shown));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("PolicyDeviation", problem.GetProperty("reason").GetString());
        Assert.Equal(forgery == "authority moved after the images" ? "PCR 7" : "PCR 8", problem.GetProperty("component").GetString());
        Assert.Null(await Service.Service<IBaselineStore>().GetAsync(VmId, default));
    }

    [Fact]
    public async Task Attest_PreviousBootsQuoteForAPrefetchedChallenge_RefusedAsARollback()
    {
        // A challenge fetched in advance, answered by the vTPM as it was in an earlier boot (what a restored copy answers).
        byte[] prefetched = await Service.ChallengeAsync(VmId);
        Service.Clock.Advance(TimeSpan.FromSeconds(1));
        byte[] stale = EvidenceJson.Serialize(Factory.Attest(GenuineEvidenceFactory.CaptureLog(AttestationApiTests.SecureBootCapture), prefetched));
        await Service.AttestExpectingAsync(Factory, HttpStatusCode.OK, AttestationApiTests.ChangedCmdlineCapture); // the VM rebooted; accepted
        Service.Clock.Advance(TimeSpan.FromSeconds(1));

        (HttpStatusCode status, JsonElement problem, _) = await Service.AttestAsync(VmId, stale);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal(("QuoteInvalid", "quote: clock"), (problem.GetProperty("reason").GetString(), problem.GetProperty("component").GetString()));
        Assert.Contains("reset count went back", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Attest_BodyWithADuplicateKey_400()
    {
        (_, byte[] body) = await Service.ChallengeAndQuoteAsync(Factory, AttestationApiTests.SecureBootCapture);
        string json = Encoding.UTF8.GetString(body);
        byte[] duplicated = Encoding.UTF8.GetBytes("{\"vmId\":\"" + Guid.NewGuid() + "\"," + json[1..]);

        (HttpStatusCode status, JsonElement problem, _) = await Service.AttestAsync(VmId, duplicated);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("vmId", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
