using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Http;

/// <summary>One swtpm-backed evidence factory shared by every class that attests through HTTP.</summary>
[CollectionDefinition(Name)]
public sealed class ServerEvidenceGroup : ICollectionFixture<GenuineEvidenceFactory>
{
    public const string Name = "server-genuine-evidence";
}

/// <summary>The HTTP API end to end: real Kestrel on loopback, real HttpClient, evidence quoted by swtpm over real boot logs.</summary>
[Collection(ServerEvidenceGroup.Name)]
[IntegrationTest]
public sealed class AttestationApiTests(GenuineEvidenceFactory factory) : RegisteredVmServiceTests(factory)
{
    internal const string SecureBootCapture = "ovmf4m-ms-sb-crb";
    internal const string ChangedCmdlineCapture = "ovmf4m-ms-sb-crb-cmdline2";

    private Task<(byte[] Nonce, byte[] Body)> ChallengeAndQuoteAsync(string capture = SecureBootCapture) =>
        Service.ChallengeAndQuoteAsync(Factory, capture);

    private Task<(HttpStatusCode Status, JsonElement Body, string? ContentType)> AttestAsync(byte[] body) => Service.AttestAsync(VmId, body);

    private Task<JsonElement> AttestExpectingAsync(HttpStatusCode expected, string capture = SecureBootCapture) =>
        Service.AttestExpectingAsync(Factory, expected, capture);

    [Fact]
    public async Task Attest_GenuineEvidence_PassTokenVerifiesAgainstPublishedJwks()
    {
        JsonElement pass = await AttestExpectingAsync(HttpStatusCode.OK);

        Assert.Equal("pass", pass.GetProperty("verdict").GetString());
        Assert.True(pass.GetProperty("baselineLearned").GetBoolean());
        string token = pass.GetProperty("token").GetString()!;
        JsonElement metadata = await Service.GetJsonAsync("/.well-known/openid-configuration");
        string issuer = metadata.GetProperty("issuer").GetString()!;
        Assert.Equal(Service.BaseAddress.ToString().TrimEnd('/'), issuer.TrimEnd('/'));
        string jwksUri = metadata.GetProperty("jwks_uri").GetString()!;
        var jwks = new JsonWebKeySet(await Service.Client.GetStringAsync(new Uri(jwksUri)));
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidateAudience = false,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidAlgorithms = metadata.GetProperty("id_token_signing_alg_values_supported").EnumerateArray().Select(a => a.GetString()!).ToArray(),
        };
        var handler = new JsonWebTokenHandler();

        TokenValidationResult valid = await handler.ValidateTokenAsync(token, parameters);
        Assert.True(valid.IsValid, valid.Exception?.ToString());
        Assert.Equal(VmId.ToString(), valid.Claims["x-ms-azurevm-vmid"].ToString(), ignoreCase: true);
        Assert.Equal(true, valid.Claims["secureboot"]);
        Assert.Equal(pass.GetProperty("claims").GetProperty("jti").GetString(), valid.Claims["jti"].ToString());

        // The validator is not a rubber stamp: one changed payload character breaks the signature.
        string[] parts = token.Split('.');
        char flipped = parts[1][10] == 'A' ? 'B' : 'A';
        string tampered = $"{parts[0]}.{parts[1][..10]}{flipped}{parts[1][11..]}.{parts[2]}";
        Assert.False((await handler.ValidateTokenAsync(tampered, parameters)).IsValid);
    }

    [Fact]
    public async Task Attest_SameNonceTwice_SecondIs409Replay()
    {
        (_, byte[] body) = await ChallengeAndQuoteAsync();
        Assert.Equal(HttpStatusCode.OK, (await AttestAsync(body)).Status);

        (HttpStatusCode status, JsonElement problem, string? type) = await AttestAsync(body);

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("application/problem+json", type);
        Assert.Equal(ServiceProblem.NonceRejected, problem.GetProperty("type").GetString());
        Assert.Equal("nonce: AlreadyUsed", problem.GetProperty("component").GetString());
    }

    [Fact]
    public async Task Attest_NonceExpired_409ThenFreshChallengePasses()
    {
        (_, byte[] body) = await ChallengeAndQuoteAsync();
        Service.Clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));

        (HttpStatusCode status, JsonElement problem, _) = await AttestAsync(body);

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("nonce: Expired", problem.GetProperty("component").GetString());
        await AttestExpectingAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Attest_NonceNeverIssued_409()
    {
        byte[] body = EvidenceJson.Serialize(Factory.Attest(GenuineEvidenceFactory.CaptureLog(SecureBootCapture), RandomNumberGenerator.GetBytes(32)));

        (HttpStatusCode status, JsonElement problem, _) = await AttestAsync(body);

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("nonce: Unknown", problem.GetProperty("component").GetString());
    }

    [Fact]
    public async Task Attest_GarbageTruncatedAndBadFields_400TypedAndServiceKeepsServing()
    {
        (_, byte[] good) = await ChallengeAndQuoteAsync();
        string goodText = Encoding.UTF8.GetString(good);
        var bad = new (string Label, byte[] Body)[]
        {
            ("empty", []),
            ("random bytes", RandomNumberGenerator.GetBytes(4096)),
            ("truncated in half", good[..(good.Length / 2)]),
            ("truncated by one byte", good[..^1]),
            ("JSON array", "[1,2,3]"u8.ToArray()),
            ("bad base64 nonce", Encoding.UTF8.GetBytes(ReplaceJsonString(goodText, "nonce", "!!not base64!!"))),
            ("deep nesting", Encoding.UTF8.GetBytes(new string('[', 100_000))),
        };
        foreach ((string label, byte[] body) in bad)
        {
            (HttpStatusCode status, JsonElement problem, string? type) = await AttestAsync(body);
            Assert.True(status == HttpStatusCode.BadRequest, $"{label}: {(int)status} {problem}");
            Assert.Equal("application/problem+json", type);
            Assert.Equal("EvidenceMalformed", problem.GetProperty("reason").GetString());
            Assert.StartsWith("evidence: ", problem.GetProperty("component").GetString(), StringComparison.Ordinal);
        }

        // The good evidence's nonce was never spent by the bad requests: it still passes.
        Assert.Equal(HttpStatusCode.OK, (await AttestAsync(good)).Status);
    }

    [Fact]
    public async Task Attest_OversizedBody_413TypedAndServiceKeepsServing()
    {
        // Only the headers are sent, as a client honouring Expect: 100-continue does: the service must refuse by
        // Content-Length before any body arrives. HttpClient would start sending the 16 MiB body once its 1 s
        // continue-timeout passed (a loaded CI machine), and the refusal's connection close then surfaced as a
        // broken pipe instead of the 413 under test.
        string head = $"POST /v1/vms/{VmId}/attestations HTTP/1.1\r\nHost: {Service.BaseAddress.Authority}\r\n" +
            $"Content-Type: application/json\r\nContent-Length: {EvidenceJson.MaxDocumentBytes + 1}\r\nExpect: 100-continue\r\n\r\n";
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(Service.BaseAddress.Host, Service.BaseAddress.Port);
        await using System.Net.Sockets.NetworkStream stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        using HttpResponseMessage response = await RawHttpResponse.ReadAsync(stream);
        JsonElement problem = (await response.Content.ReadFromJsonAsync<JsonElement>())!;

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(ServiceProblem.RequestTooLarge, problem.GetProperty("type").GetString());
        await AttestExpectingAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Endpoints_UnknownVm_404AndBadVmId_400()
    {
        var stranger = Guid.NewGuid();
        using HttpResponseMessage challenge = await Service.Client.PostAsync($"/v1/vms/{stranger}/challenges", null);
        using HttpResponseMessage evidence = await Service.PostEvidenceAsync(stranger, "{}"u8.ToArray());
        using HttpResponseMessage list = await Service.Client.GetAsync($"/v1/vms/{stranger}/attestations");
        using HttpResponseMessage relearn = await Service.Client.PostAsync($"/v1/vms/{stranger}/baseline:relearn", null);
        using HttpResponseMessage badId = await Service.Client.PostAsync("/v1/vms/not-a-uuid/challenges", null);

        Assert.All([challenge, evidence, list, relearn], r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
        JsonElement problem = (await evidence.Content.ReadFromJsonAsync<JsonElement>())!;
        Assert.Equal(ServiceProblem.UnknownVm, problem.GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
    }

    [Fact]
    public async Task Attest_EvidenceFromAnotherVmsAk_422AkNotFromThisVm()
    {
        // A second registered VM presents the first VM's genuine evidence (its AK certificate names the first VM).
        var other = Guid.NewGuid();
        await Service.RegisterAsync(other);
        byte[] nonce = await Service.ChallengeAsync(other);
        byte[] body = EvidenceJson.Serialize(Factory.Attest(GenuineEvidenceFactory.CaptureLog(SecureBootCapture), nonce));

        using HttpResponseMessage response = await Service.PostEvidenceAsync(other, body);
        JsonElement problem = (await response.Content.ReadFromJsonAsync<JsonElement>())!;

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("AkNotFromThisVm", problem.GetProperty("reason").GetString());
        Assert.Equal(ServiceProblem.ForReason("AkNotFromThisVm"), problem.GetProperty("type").GetString());
        Assert.Equal("fail", problem.GetProperty("verdict").GetString());
    }

    [Fact]
    public async Task Baseline_LearnedOnFirstPass_ChangedBootDeviates_RelearnAcceptsIt()
    {
        JsonElement first = await AttestExpectingAsync(HttpStatusCode.OK);
        Assert.True(first.GetProperty("baselineLearned").GetBoolean());
        JsonElement second = await AttestExpectingAsync(HttpStatusCode.OK);
        Assert.False(second.GetProperty("baselineLearned").GetBoolean());

        JsonElement deviation = await AttestExpectingAsync(HttpStatusCode.UnprocessableEntity, ChangedCmdlineCapture);
        Assert.Equal("BaselineDeviation", deviation.GetProperty("reason").GetString());
        Assert.Contains("PCR", deviation.GetProperty("component").GetString(), StringComparison.Ordinal);
        JsonElement[] deviations = deviation.GetProperty("deviations").EnumerateArray().ToArray();
        Assert.Contains(deviations, d => d.GetProperty("pcr").GetInt32() is 8 or 9);

        using HttpResponseMessage relearn = await Service.Client.PostAsync($"/v1/vms/{VmId}/baseline:relearn", null);
        Assert.Equal(HttpStatusCode.Accepted, relearn.StatusCode);
        JsonElement relearned = await AttestExpectingAsync(HttpStatusCode.OK, ChangedCmdlineCapture);
        Assert.True(relearned.GetProperty("baselineLearned").GetBoolean());
        await AttestExpectingAsync(HttpStatusCode.OK, ChangedCmdlineCapture);
        // The old boot is now the deviation.
        await AttestExpectingAsync(HttpStatusCode.UnprocessableEntity, SecureBootCapture);
    }

    [Fact]
    public async Task Results_ListedNewestFirstWithReasons_LatestAndLimit()
    {
        await AttestExpectingAsync(HttpStatusCode.OK);
        await AttestExpectingAsync(HttpStatusCode.UnprocessableEntity, ChangedCmdlineCapture);
        using (HttpResponseMessage unresponsive = await Service.Client.PostAsJsonAsync($"/v1/vms/{VmId}/attestations:agent-unresponsive",
            new { message = "no evidence within 30 s" }))
        {
            Assert.Equal(HttpStatusCode.Created, unresponsive.StatusCode);
        }

        JsonElement list = await Service.GetJsonAsync($"/v1/vms/{VmId}/attestations");
        JsonElement[] results = list.GetProperty("results").EnumerateArray().ToArray();
        JsonElement latest = await Service.GetJsonAsync($"/v1/vms/{VmId}/attestations/latest");
        JsonElement limited = await Service.GetJsonAsync($"/v1/vms/{VmId}/attestations?limit=1");

        Assert.Equal(["fail", "fail", "pass"], results.Select(r => r.GetProperty("verdict").GetString()));
        Assert.Equal("AgentUnresponsive", results[0].GetProperty("reason").GetString());
        Assert.Equal("no evidence within 30 s", results[0].GetProperty("message").GetString());
        Assert.Equal("BaselineDeviation", results[1].GetProperty("reason").GetString());
        Assert.False(string.IsNullOrEmpty(results[2].GetProperty("tokenId").GetString()));
        Assert.Equal(VmId.ToString(), results[2].GetProperty("claims").GetProperty("x-ms-azurevm-vmid").GetString(), ignoreCase: true);
        Assert.Equal(results[0].GetProperty("id").GetInt64(), latest.GetProperty("id").GetInt64());
        Assert.Single(limited.GetProperty("results").EnumerateArray());
        using HttpResponseMessage badLimit = await Service.Client.GetAsync($"/v1/vms/{VmId}/attestations?limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
    }

    [Fact]
    public async Task Restart_KeepsNoncesResultsBaselineAndSigningKey()
    {
        await AttestExpectingAsync(HttpStatusCode.OK);
        (_, byte[] spent) = await ChallengeAndQuoteAsync();
        Assert.Equal(HttpStatusCode.OK, (await AttestAsync(spent)).Status);
        // Quoted after the last accepted quote (a later boot): an older boot's quote would be refused as a rollback.
        (_, byte[] pending) = await ChallengeAndQuoteAsync(ChangedCmdlineCapture);
        string jwksBefore = await Service.Client.GetStringAsync("/certs");

        await Service.RestartAsync();

        Assert.Equal(jwksBefore, await Service.Client.GetStringAsync("/certs"));
        Assert.Equal(HttpStatusCode.Conflict, (await AttestAsync(spent)).Status);
        // The nonce issued before the restart is still good, and the learned baseline still applies.
        (HttpStatusCode status, JsonElement body, _) = await AttestAsync(pending);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("BaselineDeviation", body.GetProperty("reason").GetString());
        JsonElement list = await Service.GetJsonAsync($"/v1/vms/{VmId}/attestations");
        Assert.Equal(["fail", "fail", "pass", "pass"], list.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("verdict").GetString()));
    }

    [Fact]
    public async Task Attest_ConcurrentClients_AllPassEachNonceOnce()
    {
        (byte[] Nonce, byte[] Body)[] prepared = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ChallengeAndQuoteAsync()));

        HttpStatusCode[] first = await Task.WhenAll(prepared.Select(async p => (await AttestAsync(p.Body)).Status));
        HttpStatusCode[] replays = await Task.WhenAll(prepared.Select(async p => (await AttestAsync(p.Body)).Status));

        Assert.All(first, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.All(replays, s => Assert.Equal(HttpStatusCode.Conflict, s));
    }

    [Fact]
    public async Task Attest_OneNonceRacedByEightRequests_ExactlyOnePasses()
    {
        (_, byte[] body) = await ChallengeAndQuoteAsync();

        HttpStatusCode[] statuses = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ => (await AttestAsync(body)).Status));

        Assert.Single(statuses, s => s == HttpStatusCode.OK);
        Assert.Equal(7, statuses.Count(s => s == HttpStatusCode.Conflict));
    }

    [Fact]
    public async Task Attest_QuoteClock_AdvancesOnPassAndAnOlderVTpmStateIsRefused()
    {
        IQuoteClockStore clocks = Service.Service<IQuoteClockStore>();
        await AttestExpectingAsync(HttpStatusCode.OK);
        StoredQuoteClock accepted = (await clocks.GetAsync(VmId, default))!;
        Service.Clock.Advance(TimeSpan.FromSeconds(1));
        await AttestExpectingAsync(HttpStatusCode.OK);
        StoredQuoteClock next = (await clocks.GetAsync(VmId, default))!;
        Assert.Null(next.Clock.RegressionFrom(accepted.Clock));
        Assert.NotEqual(accepted.Clock, next.Clock);

        // History in which this VM's vTPM had already been through 10 more resets: the genuine quote it gives now is
        // what a vTPM restored from an older copy of its state would give.
        Service.Clock.Advance(TimeSpan.FromSeconds(1));
        QuoteClock ahead = next.Clock with { ResetCount = next.Clock.ResetCount + 10 };
        await clocks.AdvanceAsync(VmId, ahead, Service.Clock.GetUtcNow(), default);
        Service.Clock.Advance(TimeSpan.FromSeconds(1));
        JsonElement problem = await AttestExpectingAsync(HttpStatusCode.UnprocessableEntity);

        Assert.Equal("QuoteInvalid", problem.GetProperty("reason").GetString());
        Assert.Equal("quote: clock", problem.GetProperty("component").GetString());
        Assert.Contains("reset count went back", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(ahead, (await clocks.GetAsync(VmId, default))!.Clock); // the refused quote does not move it back
    }

    [Fact]
    public async Task Attest_AfterASanctionedRestore_TheRestoredVTpmIsAccepted_AndAnUnsanctionedRollbackIsStillRefused()
    {
        IQuoteClockStore clocks = Service.Service<IQuoteClockStore>();
        ISanctionedRestoreStore restores = Service.Service<ISanctionedRestoreStore>();
        await AttestExpectingAsync(HttpStatusCode.OK);
        // The floor a snapshot taken now records: the newest quote accepted before it.
        QuoteClock floor = (await clocks.GetAsync(VmId, default))!.Clock;

        // The VM ran on after the snapshot (10 more boots); its owner then restores the snapshot: the vTPM's quotes are
        // now older than the record, and the restore is what makes them acceptable.
        Service.Clock.Advance(TimeSpan.FromSeconds(1));
        await clocks.AdvanceAsync(VmId, floor with { ResetCount = floor.ResetCount + 10 }, Service.Clock.GetUtcNow(), default);
        Service.Clock.Advance(TimeSpan.FromSeconds(1));
        await restores.RecordAsync(new SanctionedRestore(VmId, "snapshot-1", floor, Service.Clock.GetUtcNow()), default);
        Service.Clock.Advance(TimeSpan.FromSeconds(1));
        await AttestExpectingAsync(HttpStatusCode.OK);

        SanctionedRestore recorded = Assert.Single(await restores.ListAsync(VmId, default));
        Assert.Equal(("snapshot-1", floor), (recorded.Source, recorded.Floor));
        QuoteClock after = (await clocks.GetAsync(VmId, default))!.Clock;
        Assert.Null(after.RegressionFrom(floor)); // the record moves on from the floor with the restored vTPM's quotes

        // A rollback nobody sanctioned, after the restore: still refused.
        Service.Clock.Advance(TimeSpan.FromSeconds(1));
        await clocks.AdvanceAsync(VmId, after with { ResetCount = after.ResetCount + 10 }, Service.Clock.GetUtcNow(), default);
        Service.Clock.Advance(TimeSpan.FromSeconds(1));
        JsonElement problem = await AttestExpectingAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("reset count went back", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static string ReplaceJsonString(string json, string property, string value)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        var root = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        root[property] = value;
        return root.ToJsonString();
    }
}
