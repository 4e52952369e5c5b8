using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.Server.Security;
using TrustedLaunch.Server.Security.Stores;
using TrustedLaunch.Server.Tests.ControlPlane;
using TrustedLaunch.Testing;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.Server.Tests.Security;

/// <summary>
/// The attacks of issue 17 against the real service over HTTPS with authentication on: who gets 401, 403 and 404, and
/// that a refusal is audited. One service per test class; each test makes its own principals and groups.
/// </summary>
public sealed class AuthorizationAttackTests : IAsyncLifetime
{
    private const string Rg = "?api-version=2021-04-01";
    private const string Vm = "?api-version=2024-07-01";
    private SecuredService _service = null!;

    public async Task InitializeAsync() => _service = await SecuredService.StartAsync();

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task UnauthenticatedWrite_401WithBearerChallengeAndArmEnvelope_Audited()
    {
        HttpClient anonymous = _service.Client();
        using var request = new HttpRequestMessage(HttpMethod.Put, _service.GroupPath("anon") + Rg) { Content = Json(new JsonObject { ["location"] = "westus" }) };
        using HttpResponseMessage response = await anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        JsonElement error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("AuthenticationFailed", error.GetProperty("code").GetString());
        Assert.Equal("Authentication failed. The 'Authorization' header is missing.", error.GetProperty("message").GetString());
        AuditEvent audited = Assert.Single(await Audit(), e => e.Path == _service.GroupPath("anon"));
        Assert.Equal(401, audited.Status);
        Assert.Equal("anonymous", audited.Caller);
        Assert.Equal("127.0.0.1", audited.RemoteAddress);
    }

    [Fact]
    public async Task GarbageOrForgedKey_401InvalidAuthenticationToken()
    {
        (PrincipalRecord principal, string key) = await _service.PrincipalAsync(ServiceRole.Owner);
        string forged = key[..^4] + (key[^4] == 'A' ? "BBBB" : "AAAA"); // the right appId, a wrong secret
        foreach (string token in new[] { "garbage", forged, $"{ApiKeys.Prefix}{Guid.NewGuid():N}.{key.Split('.')[2]}" })
        {
            (HttpStatusCode status, JsonElement body) = await SecuredService.SendAsync(_service.Client(token), HttpMethod.Get, _service.GroupPath("x") + Rg);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal("InvalidAuthenticationToken", body.GetProperty("error").GetProperty("code").GetString());
        }

        Assert.NotNull(principal);
    }

    [Fact]
    public async Task ReaderWrite_403AuthorizationFailedInAzuresWords_ReadAllowed()
    {
        (_, string contributorKey) = await _service.PrincipalAsync(ServiceRole.Contributor);
        (PrincipalRecord reader, string readerKey) = await _service.PrincipalAsync(ServiceRole.Reader);
        (HttpStatusCode created, _) = await SecuredService.SendAsync(_service.Client(contributorKey), HttpMethod.Put, _service.GroupPath("readers") + Rg,
            new JsonObject { ["location"] = "westus" });
        Assert.Equal(HttpStatusCode.Created, created);

        HttpClient client = _service.Client(readerKey);
        (HttpStatusCode read, _) = await SecuredService.SendAsync(client, HttpMethod.Get, _service.GroupPath("readers") + Rg);
        (HttpStatusCode write, JsonElement body) = await SecuredService.SendAsync(client, HttpMethod.Put, _service.VmPath("readers", "vm1") + Vm, ArmTestService.VmBody());

        Assert.Equal(HttpStatusCode.OK, read);
        Assert.Equal(HttpStatusCode.Forbidden, write);
        JsonElement error = body.GetProperty("error");
        Assert.Equal("AuthorizationFailed", error.GetProperty("code").GetString());
        Assert.Equal($"The client '{reader.AppId}' with object id '{reader.ObjectId}' does not have authorization to perform action " +
            $"'Microsoft.Compute/virtualMachines/write' over scope '/subscriptions/{_service.SubscriptionId}/resourceGroups/readers' or the scope is invalid.",
            error.GetProperty("message").GetString());
        Assert.Contains(await Audit(), e => e.Status == 403 && e.Caller.StartsWith(reader.ObjectId.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task CrossSubscriptionRead_404NotForbidden_AndOutsideGroupScope404()
    {
        (_, string contributorKey) = await _service.PrincipalAsync(ServiceRole.Contributor);
        await SecuredService.SendAsync(_service.Client(contributorKey), HttpMethod.Put, _service.GroupPath("hidden") + Rg, new JsonObject { ["location"] = "westus" });
        string otherSubscription = Guid.NewGuid().ToString("D");
        (_, string foreignKey) = await _service.PrincipalAsync(ServiceRole.Owner, ServiceScope.Subscription(otherSubscription));
        (_, string groupKey) = await _service.PrincipalAsync(ServiceRole.Owner, ServiceScope.ResourceGroup(_service.SubscriptionId, "other"));

        (HttpStatusCode foreign, JsonElement foreignBody) = await SecuredService.SendAsync(_service.Client(foreignKey), HttpMethod.Get, _service.GroupPath("hidden") + Rg);
        (HttpStatusCode sibling, JsonElement siblingBody) = await SecuredService.SendAsync(_service.Client(groupKey), HttpMethod.Get, _service.GroupPath("hidden") + Rg);
        (HttpStatusCode list, JsonElement subscriptions) = await SecuredService.SendAsync(_service.Client(foreignKey), HttpMethod.Get, "/subscriptions?api-version=2022-12-01");

        Assert.Equal(HttpStatusCode.NotFound, foreign);
        Assert.Equal("SubscriptionNotFound", foreignBody.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.NotFound, sibling);
        Assert.Equal("ResourceGroupNotFound", siblingBody.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, list);
        Assert.Empty(subscriptions.GetProperty("value").EnumerateArray());
    }

    [Fact]
    public async Task RevokedPrincipal_RefusedAtOnce()
    {
        (_, string ownerKey) = await _service.PrincipalAsync(ServiceRole.Owner, ServiceScope.Root);
        (PrincipalRecord doomed, string doomedKey) = await _service.PrincipalAsync(ServiceRole.Reader);
        HttpClient client = _service.Client(doomedKey);
        (HttpStatusCode before, _) = await SecuredService.SendAsync(client, HttpMethod.Get, $"/subscriptions/{_service.SubscriptionId}/resourceGroups{Rg}");

        (HttpStatusCode deleted, _) = await SecuredService.SendAsync(_service.Client(ownerKey), HttpMethod.Delete, $"/v1/principals/{doomed.AppId}");
        (HttpStatusCode after, JsonElement body) = await SecuredService.SendAsync(client, HttpMethod.Get, $"/subscriptions/{_service.SubscriptionId}/resourceGroups{Rg}");

        Assert.Equal(HttpStatusCode.OK, before);
        Assert.Equal(HttpStatusCode.NoContent, deleted);
        Assert.Equal(HttpStatusCode.Unauthorized, after);
        Assert.Equal("InvalidAuthenticationToken", body.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task OnlyOwnersManagePrincipals_WithinTheirScope()
    {
        (_, string contributorKey) = await _service.PrincipalAsync(ServiceRole.Contributor);
        (_, string ownerKey) = await _service.PrincipalAsync(ServiceRole.Owner);
        var request = new JsonObject { ["displayName"] = "ci", ["role"] = "Reader", ["scope"] = ServiceScope.Subscription(_service.SubscriptionId) };

        (HttpStatusCode byContributor, _) = await SecuredService.SendAsync(_service.Client(contributorKey), HttpMethod.Post, "/v1/principals", request);
        (HttpStatusCode byOwner, JsonElement created) = await SecuredService.SendAsync(_service.Client(ownerKey), HttpMethod.Post, "/v1/principals", request);
        (HttpStatusCode aboveOwnScope, _) = await SecuredService.SendAsync(_service.Client(ownerKey), HttpMethod.Post, "/v1/principals",
            new JsonObject { ["displayName"] = "root", ["role"] = "Owner", ["scope"] = "/" });
        (HttpStatusCode useNewKey, _) = await SecuredService.SendAsync(_service.Client(created.GetProperty("secret").GetString()), HttpMethod.Get,
            $"/subscriptions/{_service.SubscriptionId}/resourceGroups{Rg}");

        Assert.Equal(HttpStatusCode.Forbidden, byContributor);
        Assert.Equal(HttpStatusCode.Created, byOwner);
        Assert.Equal(HttpStatusCode.Forbidden, aboveOwnScope);
        Assert.Equal(HttpStatusCode.OK, useNewKey);
        Assert.True(Guid.TryParse(created.GetProperty("appId").GetString(), out _));
    }

    [Fact]
    public async Task HostPostingForAVmNotPlacedOnIt_403AndAudited_ItsOwnHostIsServed()
    {
        using X509Certificate2 host1 = await _service.EnrollHostAsync("host1");
        using X509Certificate2 host2 = await _service.EnrollHostAsync("host2");
        HttpClient first = _service.Client(certificate: host1), second = _service.Client(certificate: host2);
        var capacity = new JsonObject { ["vCpus"] = 16, ["memoryInMB"] = 65536, ["accelerator"] = "kvm", ["agentVersion"] = "test" };
        (HttpStatusCode registered, JsonElement registration) = await SecuredService.SendAsync(first, HttpMethod.Put, "/v1/hosts/host1", capacity);
        Assert.True(registered == HttpStatusCode.OK, registration.ToString());
        (_, string contributorKey) = await _service.PrincipalAsync(ServiceRole.Contributor);
        HttpClient contributor = _service.Client(contributorKey);
        await SecuredService.SendAsync(contributor, HttpMethod.Put, _service.GroupPath("placed") + Rg, new JsonObject { ["location"] = "westus" });
        (HttpStatusCode created, JsonElement vm) = await SecuredService.SendAsync(contributor, HttpMethod.Put, _service.VmPath("placed", "vm1") + Vm, ArmTestService.VmBody());
        Assert.True(created == HttpStatusCode.Created, vm.ToString());
        string vmId = vm.GetProperty("properties").GetProperty("vmId").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await SecuredService.SendAsync(second, HttpMethod.Put, "/v1/hosts/host2", capacity)).Status);

        (HttpStatusCode stranger, JsonElement refusal) = await SecuredService.SendAsync(second, HttpMethod.Post, $"/v1/vms/{vmId}/challenges");
        (HttpStatusCode strangerEvidence, _) = await SecuredService.SendAsync(second, HttpMethod.Post, $"/v1/vms/{vmId}/attestations", new JsonObject());
        (HttpStatusCode otherHostsPoll, _) = await SecuredService.SendAsync(second, HttpMethod.Get, "/v1/hosts/host1/assignments");
        (HttpStatusCode own, _) = await SecuredService.SendAsync(first, HttpMethod.Post, $"/v1/vms/{vmId}/challenges");
        (HttpStatusCode hostOnArm, _) = await SecuredService.SendAsync(first, HttpMethod.Get, _service.VmPath("placed", "vm1") + Vm);

        Assert.Equal(HttpStatusCode.Forbidden, stranger);
        Assert.Equal("AuthorizationFailed", refusal.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("host2", refusal.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, strangerEvidence);
        Assert.Equal(HttpStatusCode.Forbidden, otherHostsPoll);
        Assert.Equal(HttpStatusCode.Created, own);
        Assert.Equal(HttpStatusCode.Forbidden, hostOnArm);
        IReadOnlyList<AuditEvent> audit = await Audit();
        Assert.Contains(audit, e => e.Caller == "host:host2" && e.Path == $"/v1/vms/{vmId}/attestations" && e.Status == 403 && e.Outcome.StartsWith("Denied", StringComparison.Ordinal));
        Assert.Contains(audit, e => e.Caller == "host:host1" && e.Path == $"/v1/vms/{vmId}/challenges" && e.Status == 201);
    }

    [Fact]
    public async Task HostCertificateFromAnotherCa_Refused()
    {
        using X509Certificate2 genuine = await _service.EnrollHostAsync("host3");
        string otherCa = Path.Combine(RepositoryPaths.NewTempDirectory("tl-foreign-ca"), "ca");
        FilePlatformCa.Create(otherCa, "Another Cloud");
        using X509Certificate2 foreign = ForeignHostCertificate(otherCa, "host3", genuine.SerialNumber);

        (HttpStatusCode refused, JsonElement body) = await SecuredService.SendAsync(_service.Client(certificate: foreign), HttpMethod.Get, "/v1/hosts/host3/assignments");
        (HttpStatusCode accepted, _) = await SecuredService.SendAsync(_service.Client(certificate: genuine), HttpMethod.Put, "/v1/hosts/host3",
            new JsonObject { ["vCpus"] = 2, ["memoryInMB"] = 4096, ["accelerator"] = "kvm", ["agentVersion"] = "test" });

        Assert.Equal(HttpStatusCode.Unauthorized, refused);
        Assert.Equal("InvalidAuthenticationToken", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, accepted);
    }

    [Fact]
    public async Task RevokedHostCertificate_RefusedFromTheNextRequest_Audited()
    {
        using X509Certificate2 certificate = await _service.EnrollHostAsync("host5");
        var capacity = new JsonObject { ["vCpus"] = 2, ["memoryInMB"] = 4096, ["accelerator"] = "kvm", ["agentVersion"] = "test" };
        (HttpStatusCode before, _) = await SecuredService.SendAsync(_service.Client(certificate: certificate), HttpMethod.Put, "/v1/hosts/host5", capacity);

        Assert.Equal(1, await _service.Service<IHostCredentialStore>().RevokeHostAsync("host5", DateTimeOffset.UtcNow, default));
        (HttpStatusCode after, JsonElement body) = await SecuredService.SendAsync(_service.Client(certificate: certificate), HttpMethod.Put, "/v1/hosts/host5", capacity);

        Assert.Equal(HttpStatusCode.OK, before);
        Assert.Equal(HttpStatusCode.Unauthorized, after);
        Assert.Equal("InvalidAuthenticationToken", body.GetProperty("error").GetProperty("code").GetString());
        IReadOnlyList<AuditEvent> audit = await _service.Service<IAuditLog>().ListAsync(20, null, default);
        Assert.Contains(audit, e => e.Status == 401 && e.Path == "/v1/hosts/host5");
    }

    [Fact]
    public async Task JoinToken_SingleUseBoundToItsHostAndExpiring()
    {
        IHostCredentialStore store = _service.Service<IHostCredentialStore>();
        string token = await ServicePrincipals.CreateJoinTokenAsync(store, "host4", DateTimeOffset.UtcNow, TimeSpan.FromHours(1), default);
        string expired = await ServicePrincipals.CreateJoinTokenAsync(store, "host5", DateTimeOffset.UtcNow.AddHours(-2), TimeSpan.FromHours(1), default);

        (HttpStatusCode otherHost, _, _) = await _service.EnrollAsync("host5", token);
        (HttpStatusCode first, _, X509Certificate2? certificate) = await _service.EnrollAsync("host4", token);
        (HttpStatusCode replay, JsonElement body, _) = await _service.EnrollAsync("host4", token);
        (HttpStatusCode late, _, _) = await _service.EnrollAsync("host5", expired);

        Assert.Equal(HttpStatusCode.Unauthorized, otherHost);
        Assert.Equal(HttpStatusCode.OK, first);
        Assert.Equal("CN=host4, OU=tl-host", certificate!.Subject);
        Assert.Equal(HttpStatusCode.Unauthorized, replay);
        Assert.Equal("InvalidAuthenticationToken", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, late);
        certificate.Dispose();
    }

    [Fact]
    public async Task PublicEndpoints_OpenWithoutCredentials_OverHttp2()
    {
        HttpClient anonymous = _service.Client(version: HttpVersion.Version20);
        foreach (string path in new[] { "/certs", "/.well-known/openid-configuration", "/healthz" })
        {
            using HttpResponseMessage response = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(HttpVersion.Version20, response.Version);
        }
    }

    [Fact]
    public async Task AuditLog_OwnersAtTheRootOnly()
    {
        (_, string rootOwner) = await _service.PrincipalAsync(ServiceRole.Owner, ServiceScope.Root);
        (_, string subscriptionOwner) = await _service.PrincipalAsync(ServiceRole.Owner);
        await SecuredService.SendAsync(_service.Client(), HttpMethod.Delete, _service.GroupPath("nobody") + Rg);

        (HttpStatusCode allowed, JsonElement events) = await SecuredService.SendAsync(_service.Client(rootOwner), HttpMethod.Get, "/v1/audit?limit=10");
        (HttpStatusCode refused, _) = await SecuredService.SendAsync(_service.Client(subscriptionOwner), HttpMethod.Get, "/v1/audit");

        Assert.Equal(HttpStatusCode.OK, allowed);
        Assert.Contains(events.GetProperty("value").EnumerateArray(), e => e.GetProperty("method").GetString() == "DELETE" && e.GetProperty("status").GetInt32() == 401);
        Assert.Equal(HttpStatusCode.Forbidden, refused);
    }

    private Task<IReadOnlyList<AuditEvent>> Audit() => _service.Service<IAuditLog>().ListAsync(1000, null, default);

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    // What an attacker with another CA would make: the right host name, a client-auth certificate, even the genuine serial.
    private static X509Certificate2 ForeignHostCertificate(string caDirectory, string host, string serialHex)
    {
        using ECDsa rootKey = ECDsa.Create();
        rootKey.ImportFromPem(File.ReadAllText(HostSystem.PlatformCaLayout.KeyPath(caDirectory, HostSystem.PlatformCaLayout.RootName)));
        using X509Certificate2 root = X509Certificate2.CreateFromPem(File.ReadAllText(HostSystem.PlatformCaLayout.CertificatePath(caDirectory, HostSystem.PlatformCaLayout.RootName)));
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={host}, OU=tl-host", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], true));
        using X509Certificate2 issued = request.Create(root.SubjectName, X509SignatureGenerator.CreateForECDsa(rootKey), DateTimeOffset.UtcNow.AddMinutes(-5),
            DateTimeOffset.UtcNow.AddDays(1), Convert.FromHexString(serialHex));
        using X509Certificate2 withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
