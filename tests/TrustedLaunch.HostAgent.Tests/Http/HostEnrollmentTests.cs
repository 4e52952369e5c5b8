using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Security;
using TrustedLaunch.Server.Security.Stores;
using TrustedLaunch.Testing;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.HostAgent.Tests.Http;

/// <summary>
/// What <c>tl host --join-token</c> does, against the real service with authentication and platform-CA TLS: enroll
/// (a key made and kept on the host, mode 0600), then speak the host contract over mTLS with the stored pair; without
/// the certificate the host is refused, and a used token enrolls no second time.
/// </summary>
public sealed class HostEnrollmentTests : IAsyncLifetime
{
    private readonly string _data = RepositoryPaths.NewTempDirectory("tl-enroll");
    private WebApplication _app = null!;
    private Uri _server = null!;
    private X509Certificate2 _root = null!;

    private string CaDirectory => Path.Combine(_data, "pki");

    private string HostDirectory => Path.Combine(_data, "host-a", "host");

    private readonly ManualTimeProvider _clock = new(DateTimeOffset.UtcNow);

    public async Task InitializeAsync()
    {
        FilePlatformCa.Create(CaDirectory, "TL Enrollment Test");
        _app = AttestationServiceHost.Build(new AttestationServiceOptions
        {
            DataDirectory = _data,
            CaDirectory = CaDirectory,
            Listen = "https://127.0.0.1:0",
            Security = new ServiceSecurityOptions { RequireAuthentication = true, TlsFromPlatformCa = true },
        }, _clock, configureLogging: _ => { });
        await _app.StartAsync();
        _server = new Uri(AttestationServiceHost.BoundAddresses(_app.Services)[0] + "/");
        _root = X509Certificate2.CreateFromPem(File.ReadAllText(PlatformCaLayout.CertificatePath(CaDirectory, PlatformCaLayout.RootName)));
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _root.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task Enroll_ThenHostContractOverMutualTls_KeyStaysOnTheHost()
    {
        string token = await ServicePrincipals.CreateJoinTokenAsync(_app.Services.GetRequiredService<IHostCredentialStore>(), "host-a",
            DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10), default);

        using X509Certificate2 certificate = await HostEnrollment.EnrollAsync(_server, "host-a", token, HostDirectory, _root, default);
        using X509Certificate2? reloaded = HostEnrollment.Load(HostDirectory);
        using var client = new ControlPlaneClient(_server, credential: new HostCredential { ClientCertificate = reloaded, TrustedRoot = _root });
        HostView registered = await client.RegisterAsync("host-a", new HostRegistration { VCpus = 4, MemoryInMB = 8192, Accelerator = "tcg", AgentVersion = "test" }, default);
        using var anonymous = new ControlPlaneClient(_server, credential: new HostCredential { TrustedRoot = _root });
        var refused = await Assert.ThrowsAsync<ControlPlaneCallException>(() =>
            anonymous.RegisterAsync("host-a", new HostRegistration { VCpus = 4, MemoryInMB = 8192, Accelerator = "tcg", AgentVersion = "test" }, default));
        var replayed = await Assert.ThrowsAsync<ControlPlaneCallException>(() => HostEnrollment.EnrollAsync(_server, "host-a", token, HostDirectory + "2", _root, default));

        Assert.Equal("CN=host-a, OU=tl-host", certificate.Subject);
        Assert.True(certificate.HasPrivateKey);
        Assert.Equal("host-a", registered.Name);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, replayed.StatusCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(HostDirectory, HostEnrollment.KeyFileName)));
    }

    [Fact]
    public async Task Renew_WithTheCurrentCertificate_NewKeyAndSerialStoredAndAccepted_OnlyByThatHost()
    {
        IHostCredentialStore credentials = _app.Services.GetRequiredService<IHostCredentialStore>();
        string tokenA = await ServicePrincipals.CreateJoinTokenAsync(credentials, "host-r", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10), default);
        string tokenB = await ServicePrincipals.CreateJoinTokenAsync(credentials, "host-s", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10), default);
        string directoryB = Path.Combine(_data, "host-s", "host");
        using X509Certificate2 first = await HostEnrollment.EnrollAsync(_server, "host-r", tokenA, HostDirectory, _root, default);
        using X509Certificate2 other = await HostEnrollment.EnrollAsync(_server, "host-s", tokenB, directoryB, _root, default);
        string firstKey = File.ReadAllText(Path.Combine(HostDirectory, HostEnrollment.KeyFileName));

        using X509Certificate2 renewed = await HostEnrollment.RenewAsync(_server, "host-r", new HostCredential { ClientCertificate = first, TrustedRoot = _root },
            HostDirectory, default);
        using X509Certificate2? reloaded = HostEnrollment.Load(HostDirectory);
        using var client = new ControlPlaneClient(_server, credential: new HostCredential { ClientCertificate = reloaded, TrustedRoot = _root });
        HostView registered = await client.RegisterAsync("host-r", new HostRegistration { VCpus = 4, MemoryInMB = 8192, Accelerator = "tcg", AgentVersion = "test" }, default);
        var otherHost = await Assert.ThrowsAsync<ControlPlaneCallException>(() =>
            HostEnrollment.RenewAsync(_server, "host-r", new HostCredential { ClientCertificate = other, TrustedRoot = _root }, directoryB + "2", default));
        var anonymous = await Assert.ThrowsAsync<ControlPlaneCallException>(() =>
            HostEnrollment.RenewAsync(_server, "host-r", new HostCredential { TrustedRoot = _root }, directoryB + "3", default));

        Assert.NotEqual(first.SerialNumber, renewed.SerialNumber);
        Assert.Equal(renewed.SerialNumber, reloaded!.SerialNumber);
        Assert.NotEqual(firstKey, File.ReadAllText(Path.Combine(HostDirectory, HostEnrollment.KeyFileName)));
        Assert.Equal("host-r", await credentials.FindCertificateHostAsync(renewed.SerialNumber, default));
        Assert.Equal("host-r", registered.Name);
        Assert.Equal(HttpStatusCode.Forbidden, otherHost.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.False(HostEnrollment.DueForRenewal(renewed, DateTimeOffset.UtcNow));
        Assert.True(HostEnrollment.DueForRenewal(renewed, new DateTimeOffset(renewed.NotAfter).AddDays(-100)));
    }

    [Fact]
    public async Task RunningAgent_RenewsWhenDue_AndItsCallsMoveToTheNewCertificate_BeforeTheOldOneExpires()
    {
        string token = await ServicePrincipals.CreateJoinTokenAsync(_app.Services.GetRequiredService<IHostCredentialStore>(), "host-l",
            _clock.GetUtcNow(), TimeSpan.FromMinutes(10), default);
        string directory = Path.Combine(_data, "host-l", "host");
        using X509Certificate2 first = await HostEnrollment.EnrollAsync(_server, "host-l", token, directory, _root, default);
        var options = new HostAgentOptions
        {
            Server = _server, HostName = "host-l", DataDirectory = Path.Combine(_data, "host-l"), CaDirectory = CaDirectory,
            Credential = new HostCredential { ClientCertificate = first, TrustedRoot = _root }, Time = _clock,
        };
        var registration = new HostRegistration { VCpus = 2, MemoryInMB = 4096, Accelerator = "tcg", AgentVersion = "test" };
        using var client = new ControlPlaneClient(_server, credential: options.Credential);
        var renewal = new HostCertificateRenewal(options, client, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        await client.RegisterAsync("host-l", registration, default); // a pooled connection that presented the first certificate

        bool early = await renewal.RenewIfDueAsync(_clock.GetUtcNow(), default);
        TimeSpan lifetime = first.NotAfter - first.NotBefore;
        _clock.Advance(lifetime * 0.7);
        bool due = await renewal.RenewIfDueAsync(_clock.GetUtcNow(), default);
        _clock.Advance(lifetime * 0.35); // the first certificate has expired for the service
        HostView afterExpiry = await client.RegisterAsync("host-l", registration, default);
        using var stale = new ControlPlaneClient(_server, credential: new HostCredential { ClientCertificate = first, TrustedRoot = _root });
        var refused = await Assert.ThrowsAsync<ControlPlaneCallException>(() => stale.RegisterAsync("host-l", registration, default));

        Assert.False(early);
        Assert.True(due);
        Assert.NotEqual(first.SerialNumber, renewal.Current!.ClientCertificate!.SerialNumber);
        Assert.Equal("host-l", afterExpiry.Name);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task ServerCertificateNotFromThePlatformRoot_HostRefusesToTalk()
    {
        string otherCa = Path.Combine(_data, "other-pki");
        FilePlatformCa.Create(otherCa, "Another Cloud");
        using X509Certificate2 otherRoot = X509Certificate2.CreateFromPem(File.ReadAllText(PlatformCaLayout.CertificatePath(otherCa, PlatformCaLayout.RootName)));

        var e = await Assert.ThrowsAsync<ControlPlaneCallException>(() => HostEnrollment.EnrollAsync(_server, "host-b", "tlj1.x", HostDirectory + "3", otherRoot, default));

        Assert.Null(e.StatusCode); // no answer: the TLS handshake failed before any token was sent
    }
}
