using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Http;

/// <summary>Host behaviour that needs no evidence: metadata, key file handling, configuration errors.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ServiceHostTests
{
    [Fact]
    public async Task Metadata_OpenIdConfigurationAndJwks_DescribeTheSigningKey()
    {
        await using ServiceUnderTest service = await ServiceUnderTest.StartAsync(caDirectory: null);

        JsonElement metadata = await service.GetJsonAsync("/.well-known/openid-configuration");
        JsonElement jwks = await service.GetJsonAsync("/certs");
        JsonElement health = await service.GetJsonAsync("/healthz");

        Assert.Equal(new Uri(service.BaseAddress, "/certs").ToString(), metadata.GetProperty("jwks_uri").GetString());
        Assert.Equal(["ES256"], metadata.GetProperty("id_token_signing_alg_values_supported").EnumerateArray().Select(a => a.GetString()));
        Assert.Contains("x-ms-azurevm-vmid", metadata.GetProperty("claims_supported").EnumerateArray().Select(c => c.GetString()));
        JsonElement key = Assert.Single(jwks.GetProperty("keys").EnumerateArray().ToArray());
        Assert.Equal("EC", key.GetProperty("kty").GetString());
        Assert.False(key.TryGetProperty("d", out _), "the JWKS must not publish the private key");
        Assert.Equal("ok", health.GetProperty("status").GetString());
    }

    [Fact]
    public async Task SigningKey_CreatedMode0600_RS256SelectableAndKeptAcrossRestart()
    {
        await using ServiceUnderTest service = await ServiceUnderTest.StartAsync(null, o => o with { TokenAlgorithm = "RS256" });
        string path = TokenService.KeyPath(service.DataDirectory, "RS256");
        string before = await service.Client.GetStringAsync("/certs");

        await service.RestartAsync();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(before, await service.Client.GetStringAsync("/certs"));
        Assert.Contains("\"RSA\"", before, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_KeyFileReadableByOthers_Refused()
    {
        string data = RepositoryPaths.NewTempDirectory("tl-server-key");
        try
        {
            await using (ServiceUnderTest service = await ServiceUnderTest.StartAsync(null))
                File.Copy(TokenService.KeyPath(service.DataDirectory, "ES256"), TokenService.KeyPath(data, "ES256"));
            File.SetUnixFileMode(TokenService.KeyPath(data, "ES256"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

            var e = Assert.Throws<TokenKeyException>(() => AttestationServiceHost.Build(new AttestationServiceOptions { DataDirectory = data, Listen = "http://127.0.0.1:0" }));
            Assert.Contains("other users", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Theory]
    [InlineData("https://127.0.0.1:0")]
    [InlineData("127.0.0.1:5380")]
    [InlineData("not a url")]
    public void Build_ListenNotAnHttpUrl_ArgumentException(string listen)
    {
        string data = RepositoryPaths.NewTempDirectory("tl-server-listen");
        try
        {
            Assert.Throws<ArgumentException>(() => AttestationServiceHost.Build(new AttestationServiceOptions { DataDirectory = data, Listen = listen }));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Attest_VmWithoutCaAnywhere_503ProblemAndServiceKeepsRecording()
    {
        await using ServiceUnderTest service = await ServiceUnderTest.StartAsync(caDirectory: null);
        var vm = Guid.NewGuid();
        await service.RegisterAsync(vm);
        byte[] nonce = await service.ChallengeAsync(vm);

        using HttpResponseMessage attest = await service.PostEvidenceAsync(vm, "{}"u8.ToArray());
        using HttpResponseMessage unresponsive = await service.Client.PostAsync($"/v1/vms/{vm}/attestations:agent-unresponsive", null);
        JsonElement latest = await service.GetJsonAsync($"/v1/vms/{vm}/attestations/latest");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, attest.StatusCode);
        Assert.Equal("application/problem+json", attest.Content.Headers.ContentType?.MediaType);
        Assert.Contains("--ca", (await attest.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, unresponsive.StatusCode);
        Assert.Equal("AgentUnresponsive", latest.GetProperty("reason").GetString());
        Assert.Equal(32, nonce.Length);
    }

    [Fact]
    public async Task UnknownRoute_404ProblemJson()
    {
        await using ServiceUnderTest service = await ServiceUnderTest.StartAsync(caDirectory: null);

        using HttpResponseMessage response = await service.Client.GetAsync("/v2/anything");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
