using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Server.Security;
using TrustedLaunch.Server.Security.Stores;
using TrustedLaunch.Server.Tests.ControlPlane;
using TrustedLaunch.Testing;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.Server.Tests.Security;

/// <summary>
/// The real service with authentication on, over TLS with a certificate of its platform CA (Kestrel on
/// https://127.0.0.1, a free port, HTTP/2 offered): API-key principals, hosts enrolled with join tokens and speaking
/// mTLS, and a client per caller. The default subscription and the Gen2 image are there.
/// </summary>
public sealed class SecuredService : IAsyncDisposable
{
    private readonly List<HttpClient> _clients = [];

    private SecuredService(string data, string ca)
    {
        DataDirectory = data;
        CaDirectory = ca;
    }

    public string DataDirectory { get; }

    public string CaDirectory { get; }

    public WebApplication App { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public X509Certificate2 Root { get; private set; } = null!;

    public string SubscriptionId { get; private set; } = null!;

    public static async Task<SecuredService> StartAsync(Func<ServiceSecurityOptions, ServiceSecurityOptions>? configure = null)
    {
        string data = RepositoryPaths.NewTempDirectory("tl-secured");
        string ca = Path.Combine(data, "pki");
        FilePlatformCa.Create(ca, "TL Security Test");
        var service = new SecuredService(data, ca);
        ServiceSecurityOptions security = new() { RequireAuthentication = true, TlsFromPlatformCa = true };
        service.App = AttestationServiceHost.Build(new AttestationServiceOptions
        {
            DataDirectory = data,
            CaDirectory = ca,
            Listen = "https://127.0.0.1:0",
            Security = configure?.Invoke(security) ?? security,
        }, configureLogging: logging => logging.SetMinimumLevel(LogLevel.Warning));
        await service.App.StartAsync();
        service.BaseAddress = new Uri(AttestationServiceHost.BoundAddresses(service.App.Services)[0]);
        service.Root = X509Certificate2.CreateFromPem(File.ReadAllText(PlatformCaLayout.CertificatePath(ca, PlatformCaLayout.RootName)));
        service.SubscriptionId = (await service.Service<ISubscriptionStore>().EnsureDefaultAsync(DateTimeOffset.UtcNow, default)).SubscriptionId;
        await service.Service<IImageStore>().SaveAsync(new ImageEntry
        {
            Publisher = "Debian",
            Offer = "debian-12",
            Sku = ArmTestService.Gen2Sku,
            Version = ImageVersion.TryParse("1.0.0", out ImageVersion v) ? v : default,
            FilePath = "/var/lib/trustedlaunch/images/debian-12.qcow2",
            Generation = HyperVGeneration.V2,
            SecureBoot = new SecureBootFinding(true, "allowed"),
            RegisteredAt = DateTimeOffset.UnixEpoch,
        }, default);
        return service;
    }

    public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();

    public string GroupPath(string group, string? subscription = null) => $"/subscriptions/{subscription ?? SubscriptionId}/resourceGroups/{group}";

    public string VmPath(string group, string vm) => $"{GroupPath(group)}/providers/Microsoft.Compute/virtualMachines/{vm}";

    /// <summary>A principal with <paramref name="role"/> at <paramref name="scope"/> (default: the subscription) and its API key.</summary>
    public async Task<(PrincipalRecord Principal, string Key)> PrincipalAsync(ServiceRole role, string? scope = null) =>
        await ServicePrincipals.CreateAsync(Service<IPrincipalStore>(), $"test {role}", role, scope ?? ServiceScope.Subscription(SubscriptionId),
            DateTimeOffset.UtcNow, default);

    /// <summary>A client that trusts the platform root and presents <paramref name="token"/> and/or <paramref name="certificate"/>.</summary>
    public HttpClient Client(string? token = null, X509Certificate2? certificate = null, Version? version = null)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, errors) => TrustedByRoot(presented, errors);
        if (certificate is not null)
            handler.SslOptions.ClientCertificates = [certificate];
        var client = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (version is not null)
        {
            client.DefaultRequestVersion = version;
            client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        if (token is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _clients.Add(client);
        return client;
    }

    /// <summary>Enrolls a host with a fresh join token: its client certificate (with key) issued by the platform CA.</summary>
    public async Task<X509Certificate2> EnrollHostAsync(string name)
    {
        string token = await ServicePrincipals.CreateJoinTokenAsync(Service<IHostCredentialStore>(), name, DateTimeOffset.UtcNow, TimeSpan.FromHours(1), default);
        (HttpStatusCode status, JsonElement body, X509Certificate2? certificate) = await EnrollAsync(name, token);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        return certificate!;
    }

    /// <summary>POST /v1/hosts/{name}/enroll with a new key's CSR: the answer and, on success, the certificate with that key.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body, X509Certificate2? Certificate)> EnrollAsync(string name, string token)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string csr = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        (HttpStatusCode status, JsonElement body) = await SendAsync(Client(), HttpMethod.Post, $"/v1/hosts/{name}/enroll",
            new JsonObject { ["joinToken"] = token, ["csr"] = csr });
        if (status != HttpStatusCode.OK)
            return (status, body, null);
        using X509Certificate2 issued = X509Certificate2.CreateFromPem(body.GetProperty("certificate").GetString()!);
        using X509Certificate2 withKey = issued.CopyWithPrivateKey(key);
        return (status, body, X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null));
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient client, HttpMethod method, string path, JsonNode? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (HttpClient client in _clients)
            client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(DataDirectory, recursive: true);
    }

    private bool TrustedByRoot(X509Certificate? presented, SslPolicyErrors errors)
    {
        if (presented is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var certificate = new X509Certificate2(presented);
        return chain.Build(certificate);
    }
}
