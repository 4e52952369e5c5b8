using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TrustedLaunch.Server.Security;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Security;

/// <summary>
/// Per-caller rate limits (429 + Retry-After), JWTs of an external issuer (ASP.NET Core's JwtBearer handler: a PEM key, or
/// the keys its authority's discovery document names), and the local host's secret.
/// </summary>
public sealed class LimitsAndExternalTokenTests
{
    private const string Issuer = "https://login.example.test/tenant/v2.0";
    private const string Audience = "api://trustedlaunch";

    [Fact]
    public async Task RateLimit_PerPrincipal_429WithRetryAfterInArmsEnvelope()
    {
        await using SecuredService service = await SecuredService.StartAsync(s => s with { RequestsPerMinute = 3 });
        (_, string busy) = await service.PrincipalAsync(ServiceRole.Reader);
        (_, string quiet) = await service.PrincipalAsync(ServiceRole.Reader);
        HttpClient client = service.Client(busy);
        string path = $"/subscriptions/{service.SubscriptionId}/resourceGroups?api-version=2021-04-01";
        for (int i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await SecuredService.SendAsync(client, HttpMethod.Get, path)).Status);

        using HttpResponseMessage throttled = await client.GetAsync(path);
        (HttpStatusCode other, _) = await SecuredService.SendAsync(service.Client(quiet), HttpMethod.Get, path);

        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.True(throttled.Headers.RetryAfter?.Delta is TimeSpan wait && wait > TimeSpan.Zero && wait <= TimeSpan.FromMinutes(1), throttled.Headers.RetryAfter?.ToString());
        Assert.Equal("TooManyRequests", JsonDocument.Parse(await throttled.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, other);
    }

    [Fact]
    public async Task RateLimit_ChallengesOnTheShortPipeline_ShareTheCallersBucketWithItsOtherCalls()
    {
        await using SecuredService service = await SecuredService.StartAsync(s => s with { RequestsPerMinute = 3 });
        (_, string key) = await service.PrincipalAsync(ServiceRole.Contributor, ServiceScope.Root);
        var vmId = Guid.NewGuid();
        Assert.True(await service.Service<TrustedLaunch.Server.Stores.IVmRegistry>().RegisterAsync(
            new TrustedLaunch.Server.Stores.RegisteredVm(vmId, null, DateTimeOffset.UtcNow), default));
        HttpClient client = service.Client(key);
        string groups = $"/subscriptions/{service.SubscriptionId}/resourceGroups?api-version=2021-04-01";

        (HttpStatusCode first, _) = await SecuredService.SendAsync(client, HttpMethod.Get, groups);
        (HttpStatusCode second, _) = await SecuredService.SendAsync(client, HttpMethod.Get, groups);
        (HttpStatusCode challenge, _) = await SecuredService.SendAsync(client, HttpMethod.Post, $"/v1/vms/{vmId}/challenges");
        (HttpStatusCode throttled, JsonElement refusal) = await SecuredService.SendAsync(client, HttpMethod.Post, $"/v1/vms/{vmId}/challenges");

        Assert.Equal(new[] { HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Created }, new[] { first, second, challenge });
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled);
        Assert.Equal("TooManyRequests", refusal.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task ExternalJwt_RolesFromTheConfiguredClaim_WrongAudienceOrKeyRefused()
    {
        using ECDsa issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string keyFile = Path.Combine(RepositoryPaths.NewTempDirectory("tl-jwt"), "issuer.pem");
        await File.WriteAllTextAsync(keyFile, issuerKey.ExportSubjectPublicKeyInfoPem());
        await using SecuredService service = await SecuredService.StartAsync(s => s with
        {
            Jwt = new ExternalJwtOptions { Issuer = Issuer, Audience = Audience, RoleClaim = "roles", SigningKeyPath = keyFile },
        });
        string reader = Token(issuerKey, Audience, $"Reader:/subscriptions/{service.SubscriptionId}");
        string wrongAudience = Token(issuerKey, "api://elsewhere", "Owner");
        using ECDsa attackerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string wrongKey = Token(attackerKey, Audience, "Owner");
        string groups = $"/subscriptions/{service.SubscriptionId}/resourceGroups?api-version=2021-04-01";

        (HttpStatusCode read, _) = await SecuredService.SendAsync(service.Client(reader), HttpMethod.Get, groups);
        (HttpStatusCode write, JsonElement refusal) = await SecuredService.SendAsync(service.Client(reader), HttpMethod.Put,
            service.GroupPath("jwt") + "?api-version=2021-04-01", new JsonObject { ["location"] = "westus" });
        (HttpStatusCode audience, _) = await SecuredService.SendAsync(service.Client(wrongAudience), HttpMethod.Get, groups);
        (HttpStatusCode forged, _) = await SecuredService.SendAsync(service.Client(wrongKey), HttpMethod.Get, groups);

        Assert.Equal(HttpStatusCode.OK, read);
        Assert.Equal(HttpStatusCode.Forbidden, write);
        Assert.Contains("'00000000-0000-0000-0000-00000000abcd'", refusal.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, audience);
        Assert.Equal(HttpStatusCode.Unauthorized, forged);
        Directory.Delete(Path.GetDirectoryName(keyFile)!, recursive: true);
    }

    [Fact]
    public async Task ExternalJwt_KeysFromTheAuthoritysDiscoveryDocumentAndJwks()
    {
        // A real OpenID Connect issuer's two documents, served on loopback: the discovery document naming the JWKS, and the JWKS.
        using ECDsa issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signing = new ECDsaSecurityKey(issuerKey) { KeyId = "issuer-key-1" };
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using WebApplication oidc = builder.Build();
        int discoveries = 0, jwksReads = 0;
        string authority = "";
        oidc.MapGet("/.well-known/openid-configuration", () =>
        {
            Interlocked.Increment(ref discoveries);
            return Results.Text(new JsonObject { ["issuer"] = authority, ["jwks_uri"] = authority + "/keys" }.ToJsonString(), "application/json");
        });
        oidc.MapGet("/keys", () =>
        {
            Interlocked.Increment(ref jwksReads);
            JsonWebKey jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(signing);
            var key = new JsonObject { ["kty"] = jwk.Kty, ["kid"] = jwk.Kid, ["crv"] = jwk.Crv, ["x"] = jwk.X, ["y"] = jwk.Y, ["use"] = "sig", ["alg"] = "ES256" };
            return Results.Text(new JsonObject { ["keys"] = new JsonArray(key) }.ToJsonString(), "application/json");
        });
        await oidc.StartAsync();
        authority = TrustedLaunch.Server.AttestationServiceHost.BoundAddresses(oidc.Services)[0];
        await using SecuredService service = await SecuredService.StartAsync(s => s with
        {
            Jwt = new ExternalJwtOptions { Issuer = authority, Audience = Audience, RoleClaim = "roles", Authority = authority },
        });
        string groups = $"/subscriptions/{service.SubscriptionId}/resourceGroups?api-version=2021-04-01";
        using ECDsa attackerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        (HttpStatusCode signed, _) = await SecuredService.SendAsync(service.Client(Token(signing, authority, Audience, "Reader")), HttpMethod.Get, groups);
        (HttpStatusCode forged, _) = await SecuredService.SendAsync(
            service.Client(Token(new ECDsaSecurityKey(attackerKey) { KeyId = "issuer-key-1" }, authority, Audience, "Owner")), HttpMethod.Get, groups);
        (HttpStatusCode otherIssuer, _) = await SecuredService.SendAsync(service.Client(Token(signing, Issuer, Audience, "Owner")), HttpMethod.Get, groups);

        Assert.Equal(HttpStatusCode.OK, signed);
        Assert.Equal(HttpStatusCode.Unauthorized, forged);
        Assert.Equal(HttpStatusCode.Unauthorized, otherIssuer);
        Assert.True(discoveries >= 1 && jwksReads >= 1, $"discovery {discoveries}, jwks {jwksReads}");
    }

    [Fact]
    public async Task LocalHostSecret_ActsForItsHostOnly()
    {
        var local = new LocalHostCredential("local1", "tlh1." + Convert.ToHexString(RandomNumberGenerator.GetBytes(32)));
        await using SecuredService service = await SecuredService.StartAsync(s => s with { LocalHost = local });
        HttpClient client = service.Client(local.Token);
        var capacity = new JsonObject { ["vCpus"] = 2, ["memoryInMB"] = 4096, ["accelerator"] = "tcg", ["agentVersion"] = "test" };

        (HttpStatusCode own, _) = await SecuredService.SendAsync(client, HttpMethod.Put, "/v1/hosts/local1", capacity);
        (HttpStatusCode other, _) = await SecuredService.SendAsync(client, HttpMethod.Put, "/v1/hosts/local2", capacity);
        (HttpStatusCode arm, _) = await SecuredService.SendAsync(client, HttpMethod.Get, service.GroupPath("any") + "?api-version=2021-04-01");
        (HttpStatusCode almost, _) = await SecuredService.SendAsync(service.Client(local.Token[..^1] + (local.Token[^1] == '0' ? "1" : "0")), HttpMethod.Put, "/v1/hosts/local1", capacity);

        Assert.Equal(HttpStatusCode.OK, own);
        Assert.Equal(HttpStatusCode.Forbidden, other);
        Assert.Equal(HttpStatusCode.Forbidden, arm);
        Assert.Equal(HttpStatusCode.Unauthorized, almost);
    }

    private static string Token(ECDsa key, string audience, string role) => Token(new ECDsaSecurityKey(key), Issuer, audience, role);

    private static string Token(ECDsaSecurityKey key, string issuer, string audience, string role) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = issuer,
        Audience = audience,
        Expires = DateTime.UtcNow.AddMinutes(10),
        Claims = new Dictionary<string, object>
        {
            ["oid"] = "00000000-0000-0000-0000-00000000abcd",
            ["appid"] = "ci-pipeline",
            ["roles"] = new[] { role },
        },
        SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256),
    });
}
