using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Http;

/// <summary>
/// Named reference policies through the HTTP API, applied to evidence quoted by swtpm over a real boot log: store,
/// assign, replace (through the API and straight into the database, as the CLI does), remove, and what fails how.
/// </summary>
[Collection(ServerEvidenceGroup.Name)]
[IntegrationTest]
public sealed class PolicyApiTests(GenuineEvidenceFactory factory) : RegisteredVmServiceTests(factory)
{
    // The real boot's kernel command line (the capture's PCR 8), optionally with a lockdown= argument.
    private const string CommandLinePattern = "/vmlinuz console=ttyS0 quiet panic=-1( lockdown=[a-z]+)?";

    private Task<JsonElement> AttestExpectingAsync(HttpStatusCode expected, string capture = AttestationApiTests.SecureBootCapture) =>
        Service.AttestExpectingAsync(Factory, expected, capture);

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await Service.Client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private async Task PutPolicyAsync(string json, HttpStatusCode expected)
    {
        string name = JsonNode.Parse(json)!["name"]!.GetValue<string>();
        (HttpStatusCode status, JsonElement body) = await SendAsync(HttpMethod.Put, $"/v1/policies/{name}", json);
        Assert.True(status == expected, $"PUT policy {name}: expected {(int)expected}, got {(int)status}: {body}");
    }

    private async Task AssignAsync(string name)
    {
        (HttpStatusCode status, JsonElement body) = await SendAsync(HttpMethod.Put, $"/v1/vms/{VmId}/policy", $$"""{"name":"{{name}}"}""");
        Assert.True(status == HttpStatusCode.OK, $"assign {name}: {(int)status} {body}");
        Assert.Equal(name, body.GetProperty("policy").GetString());
    }

    // The boot applications the token of a pass reports: the real shim, grub and kernel of the capture.
    private static (string Name, string Digest)[] BootComponents(JsonElement pass) => pass.GetProperty("claims").GetProperty("x-tl-boot-components")
        .EnumerateArray().Select(c => (c.GetProperty("name").GetString()!, c.GetProperty("digest").GetString()!)).ToArray();

    // A policy allowing the digests of every component except those named <paramref name="excluded"/>.
    private static string PinnedPolicy(string name, (string Name, string Digest)[] components, string? excluded = null)
    {
        string[] digests = components.Where(c => c.Name != excluded).Select(c => c.Digest).Distinct().ToArray();
        Assert.DoesNotContain(components.Where(c => c.Name == excluded).Select(c => c.Digest), digests.Contains);
        return new JsonObject { ["name"] = name, ["allowedBootApplicationDigests"] = new JsonArray(digests.Select(d => (JsonNode)d!).ToArray()) }.ToJsonString();
    }

    [Fact]
    public async Task Attest_PolicyWithoutTheRealGrubDigest_422PolicyDeviationNamingGrub_MinimumPassesAgain()
    {
        JsonElement minimum = await AttestExpectingAsync(HttpStatusCode.OK);
        Assert.Equal("minimum", minimum.GetProperty("claims").GetProperty("x-tl-policy").GetString());
        (string Name, string Digest)[] components = BootComponents(minimum);
        string grub = Assert.Single(components, c => c.Name == "grubx64.efi").Digest;
        await PutPolicyAsync(PinnedPolicy("no-grub", components, excluded: "grubx64.efi"), HttpStatusCode.Created);
        await AssignAsync("no-grub");

        JsonElement failed = await AttestExpectingAsync(HttpStatusCode.UnprocessableEntity);

        Assert.Equal("PolicyDeviation", failed.GetProperty("reason").GetString());
        Assert.Equal(ServiceProblem.ForReason("PolicyDeviation"), failed.GetProperty("type").GetString());
        Assert.Equal("PCR 4: grubx64.efi", failed.GetProperty("component").GetString());
        Assert.Contains($"policy 'no-grub': PCR 4: grubx64.efi digest {grub} is not an allowed boot application",
            failed.GetProperty("detail").GetString(), StringComparison.Ordinal);
        JsonElement violation = Assert.Single(failed.GetProperty("violations").EnumerateArray().ToArray());
        Assert.Equal("PCR 4: grubx64.efi", violation.GetProperty("component").GetString());
        JsonElement stored = await Service.GetJsonAsync($"/v1/vms/{VmId}/attestations/latest");
        Assert.Equal("PolicyDeviation", stored.GetProperty("reason").GetString());
        Assert.Equal("no-grub", stored.GetProperty("claims").GetProperty("policy").GetString());

        (HttpStatusCode unassigned, JsonElement back) = await SendAsync(HttpMethod.Delete, $"/v1/vms/{VmId}/policy");
        Assert.Equal(HttpStatusCode.OK, unassigned);
        Assert.Equal("minimum", back.GetProperty("policy").GetString());
        JsonElement passed = await AttestExpectingAsync(HttpStatusCode.OK);
        Assert.Equal("minimum", passed.GetProperty("claims").GetProperty("x-tl-policy").GetString());
    }

    [Fact]
    public async Task Attest_PolicyWithRealCommandLinePattern_PassesAndTokenNamesThePolicy()
    {
        await PutPolicyAsync($$"""{"name":"debian12-cmdline","kernelCommandLinePattern":"{{CommandLinePattern}}"}""", HttpStatusCode.Created);
        await AssignAsync("debian12-cmdline");

        JsonElement pass = await AttestExpectingAsync(HttpStatusCode.OK);

        Assert.Equal("debian12-cmdline", pass.GetProperty("claims").GetProperty("x-tl-policy").GetString());
        Assert.Matches($"^{CommandLinePattern}$", pass.GetProperty("claims").GetProperty("x-tl-kernel-cmdline").GetString()!);
    }

    [Fact]
    public async Task Attest_BaselineAndPolicyBothBroken_BaselineDeviationFirstWithPolicyViolationsAlso()
    {
        await PutPolicyAsync($$"""{"name":"debian12-cmdline","kernelCommandLinePattern":"{{CommandLinePattern}}"}""", HttpStatusCode.Created);
        await AssignAsync("debian12-cmdline");
        await AttestExpectingAsync(HttpStatusCode.OK); // learns the baseline

        JsonElement failed = await AttestExpectingAsync(HttpStatusCode.UnprocessableEntity, AttestationApiTests.ChangedCmdlineCapture);

        Assert.Equal("BaselineDeviation", failed.GetProperty("reason").GetString());
        Assert.NotEmpty(failed.GetProperty("deviations").EnumerateArray());
        JsonElement violation = Assert.Single(failed.GetProperty("violations").EnumerateArray().ToArray());
        Assert.Equal("PCR 8", violation.GetProperty("component").GetString());
        Assert.Contains("tl.variant=2", violation.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutPolicy_ReplacedThroughApiOrDatabase_TakesEffectAtNextAttestation()
    {
        JsonElement minimum = await AttestExpectingAsync(HttpStatusCode.OK);
        (string Name, string Digest)[] components = BootComponents(minimum);
        string allowAll = PinnedPolicy("pinned", components);
        string withoutShim = PinnedPolicy("pinned", components, excluded: "BOOTX64.EFI");
        await PutPolicyAsync(allowAll, HttpStatusCode.Created);
        await AssignAsync("pinned");
        await AttestExpectingAsync(HttpStatusCode.OK);

        await PutPolicyAsync(withoutShim, HttpStatusCode.OK);
        JsonElement failed = await AttestExpectingAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("PCR 4: BOOTX64.EFI", failed.GetProperty("component").GetString());

        // As tl server policy add does it: another process writes the database; the service's parsed copy is stale.
        using (SqliteDatabase other = SqliteDatabase.Open(Path.Combine(Service.DataDirectory, AttestationServiceOptions.DatabaseFileName)))
        {
            string canonical = Encoding.UTF8.GetString(PolicyDocument.Parse(Encoding.UTF8.GetBytes(allowAll)).ToJson());
            Assert.Equal(PolicyWrite.Replaced, await new SqlPolicyStore(other).SaveAsync(new StoredPolicy("pinned", canonical, DateTimeOffset.UtcNow), default));
        }

        JsonElement passed = await AttestExpectingAsync(HttpStatusCode.OK);
        Assert.Equal("pinned", passed.GetProperty("claims").GetProperty("x-tl-policy").GetString());
    }

    [Fact]
    public async Task Policies_GetListDelete_InUse409ThenRemoved()
    {
        await PutPolicyAsync($$"""{"name":"strict","requireDefaultSecureBootKeys":true}""", HttpStatusCode.Created);
        await PutPolicyAsync("""{"name":"spare"}""", HttpStatusCode.Created);
        await AssignAsync("strict");

        JsonElement strict = await Service.GetJsonAsync("/v1/policies/strict");
        JsonElement list = await Service.GetJsonAsync("/v1/policies");
        (HttpStatusCode inUse, JsonElement conflict) = await SendAsync(HttpMethod.Delete, "/v1/policies/strict");

        Assert.Equal([VmId.ToString()], strict.GetProperty("vms").EnumerateArray().Select(v => v.GetString()));
        // Stored as the verifier reads it: every rule explicit, so what is shown is what is enforced.
        Assert.True(strict.GetProperty("policy").GetProperty("requireDefaultSecureBootKeys").GetBoolean());
        Assert.True(strict.GetProperty("policy").GetProperty("requireSecureBoot").GetBoolean());
        Assert.Equal(["spare", "strict"], list.GetProperty("policies").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.Equal(HttpStatusCode.Conflict, inUse);
        Assert.Equal(ServiceProblem.PolicyInUse, conflict.GetProperty("type").GetString());
        Assert.Contains(VmId.ToString(), conflict.GetProperty("detail").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Delete, $"/v1/vms/{VmId}/policy")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, "/v1/policies/strict")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "/v1/policies/strict")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Delete, "/v1/policies/strict")).Status);
    }

    [Theory]
    [InlineData("not JSON", "{\"name\":\"p\",", "not a reference policy")]
    [InlineData("bad regex", """{"name":"p","kernelCommandLinePattern":"(console"}""", "kernelCommandLinePattern is not a valid regular expression")]
    [InlineData("regex construct without a non-backtracking form", """{"name":"p","kernelCommandLinePattern":"(?=quiet).*"}""", "non-backtracking")]
    [InlineData("name differs from the URL", """{"name":"q"}""", "names the policy 'q', not 'p'")]
    [InlineData("no name", """{"requireSecureBoot":true}""", "not a reference policy")]
    [InlineData("misspelt rule", """{"name":"p","allowedAuthority":["Debian Secure Boot CA"]}""", "'allowedAuthority' could not be mapped")]
    [InlineData("null in an allow-list", """{"name":"p","allowedAuthorities":[null]}""", "allowedAuthorities[0] is null")]
    [InlineData("wrong type", """{"name":"p","requireSecureBoot":"yes"}""", "not a reference policy")]
    public async Task PutPolicy_InvalidDocument_400NamingWhatIsWrong(string label, string json, string reason)
    {
        (HttpStatusCode status, JsonElement problem) = await SendAsync(HttpMethod.Put, "/v1/policies/p", json);

        Assert.True(status == HttpStatusCode.BadRequest, $"{label}: {(int)status} {problem}");
        Assert.Equal(ServiceProblem.PolicyInvalid, problem.GetProperty("type").GetString());
        Assert.Contains(reason, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "/v1/policies/p")).Status);
    }

    [Theory]
    [InlineData("minimum")]
    [InlineData("Minimum")]
    [InlineData("-leading-dash")]
    [InlineData("has%20space")]
    public async Task PutPolicy_UnusableName_400(string name)
    {
        (HttpStatusCode status, JsonElement problem) = await SendAsync(HttpMethod.Put, $"/v1/policies/{name}", $$"""{"name":"{{Uri.UnescapeDataString(name)}}"}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("cannot name a stored policy", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AssignPolicy_UnknownVmOrPolicyOrBadBody_404And400()
    {
        await PutPolicyAsync("""{"name":"spare"}""", HttpStatusCode.Created);

        (HttpStatusCode strangerVm, JsonElement unknownVm) = await SendAsync(HttpMethod.Put, $"/v1/vms/{Guid.NewGuid()}/policy", """{"name":"spare"}""");
        (HttpStatusCode noPolicy, JsonElement unknownPolicy) = await SendAsync(HttpMethod.Put, $"/v1/vms/{VmId}/policy", """{"name":"absent"}""");
        (HttpStatusCode noName, _) = await SendAsync(HttpMethod.Put, $"/v1/vms/{VmId}/policy", """{"policy":"spare"}""");
        (HttpStatusCode notJson, _) = await SendAsync(HttpMethod.Put, $"/v1/vms/{VmId}/policy", "spare");
        (HttpStatusCode unassignStranger, _) = await SendAsync(HttpMethod.Delete, $"/v1/vms/{Guid.NewGuid()}/policy");

        Assert.Equal(HttpStatusCode.NotFound, strangerVm);
        Assert.Equal(ServiceProblem.UnknownVm, unknownVm.GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.NotFound, noPolicy);
        Assert.Equal(ServiceProblem.UnknownPolicy, unknownPolicy.GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, noName);
        Assert.Equal(HttpStatusCode.BadRequest, notJson);
        Assert.Equal(HttpStatusCode.NotFound, unassignStranger);
        Assert.Null((await Service.Service<IVmRegistry>().GetAsync(VmId, default))!.PolicyName);
    }
}
