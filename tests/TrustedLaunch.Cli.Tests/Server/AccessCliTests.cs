using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Security;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Server;

/// <summary>
/// <c>tl server principal|host-token|host|audit</c> against the database of a real service with authentication on (loopback,
/// in this process), and <c>tl group … --token</c> calling it: the key printed once works at its role and scope, a
/// deleted principal's key is refused at once, and the refusals are in the audit log.
/// </summary>
public sealed class AccessCliTests : IAsyncLifetime
{
    private readonly string _data = RepositoryPaths.NewTempDirectory("tl-access-cli");
    private WebApplication _app = null!;
    private string _url = null!;
    private string _subscription = null!;

    public async Task InitializeAsync()
    {
        _app = AttestationServiceHost.Build(new AttestationServiceOptions
        {
            DataDirectory = _data,
            Listen = "http://127.0.0.1:0",
            Security = new ServiceSecurityOptions { RequireAuthentication = true },
        }, configureLogging: logging => { });
        await _app.StartAsync();
        _url = AttestationServiceHost.BoundAddresses(_app.Services)[0];
        _subscription = (await _app.Services.GetRequiredService<ISubscriptionStore>().EnsureDefaultAsync(DateTimeOffset.UtcNow, default)).SubscriptionId;
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    private static ToolResult Tl(params string[] args) => TlRun.InProcess(args);

    private (string AppId, string Key) Create(string role, string scope)
    {
        ToolResult created = Tl("server", "principal", "create", "--data", _data, "--name", "ci " + role, "--role", role, "--scope", scope, "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        JsonElement json = JsonDocument.Parse(created.StandardOutput).RootElement;
        return (json.GetProperty("appId").GetString()!, json.GetProperty("secret").GetString()!);
    }

    [Fact]
    public void PrincipalKeys_WorkAtTheirRole_DeletedKeyRefusedAtOnce_RefusalsAudited()
    {
        (string contributorId, string contributor) = Create("Contributor", $"/subscriptions/{_subscription}");
        (_, string reader) = Create("Reader", $"/subscriptions/{_subscription}");

        ToolResult anonymous = Tl("group", "create", "-n", "rg1", "--server", _url);
        ToolResult byReader = Tl("group", "create", "-n", "rg1", "--server", _url, "--token", reader);
        ToolResult byContributor = Tl("group", "create", "-n", "rg1", "--server", _url, "--token", contributor);
        ToolResult listed = Tl("group", "list", "--server", _url, "--token", reader, "-o", "table");
        ToolResult deleted = Tl("server", "principal", "delete", contributorId, "--data", _data);
        ToolResult afterDelete = Tl("group", "create", "-n", "rg2", "--server", _url, "--token", contributor);
        ToolResult deletedAgain = Tl("server", "principal", "delete", contributorId, "--data", _data);
        ToolResult audit = Tl("server", "audit", "list", "--data", _data, "--json");

        Assert.Equal(2, anonymous.ExitCode);
        Assert.Contains("(AuthenticationFailed)", anonymous.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, byReader.ExitCode);
        Assert.Contains("(AuthorizationFailed)", byReader.StandardError, StringComparison.Ordinal);
        Assert.True(byContributor.ExitCode == 0, byContributor.ToString());
        Assert.Contains("rg1", listed.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(0, deleted.ExitCode);
        Assert.Equal(2, afterDelete.ExitCode);
        Assert.Contains("(InvalidAuthenticationToken)", afterDelete.StandardError, StringComparison.Ordinal);
        Assert.Equal(1, deletedAgain.ExitCode);
        JsonElement[] events = JsonDocument.Parse(audit.StandardOutput).RootElement.EnumerateArray().ToArray();
        // tl group first asks for the default subscription: both the anonymous call and the deleted key are refused there.
        Assert.Equal(2, events.Count(e => e.GetProperty("status").GetInt32() == 401 && e.GetProperty("path").GetString() == "/subscriptions"));
        Assert.Contains(events, e => e.GetProperty("status").GetInt32() == 403 && e.GetProperty("path").GetString()!.EndsWith("/resourceGroups/rg1", StringComparison.Ordinal));
        Assert.Contains(events, e => e.GetProperty("status").GetInt32() == 201 && e.GetProperty("method").GetString() == "PUT");
        Assert.DoesNotContain(contributor.Split('.')[2], audit.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void PrincipalList_NeverShowsSecrets_BadInputExit2()
    {
        (string appId, string key) = Create("AttestationReader", "/");

        ToolResult list = Tl("server", "principal", "list", "--data", _data, "--json");
        ToolResult badScope = Tl("server", "principal", "create", "--data", _data, "--name", "x", "--role", "Reader", "--scope", "/subscriptions/nope");
        ToolResult badRole = Tl("server", "principal", "create", "--data", _data, "--name", "x", "--role", "Admin", "--scope", "/");

        Assert.Equal(0, list.ExitCode);
        Assert.Contains(appId, list.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(key.Split('.')[2], list.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(2, badScope.ExitCode);
        Assert.Contains("'/subscriptions/nope' is not valid", badScope.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, badRole.ExitCode);
    }

    [Fact]
    public void HostToken_PrintedOnceAndSingleUse()
    {
        ToolResult created = Tl("server", "host-token", "create", "--data", _data, "--host", "hv2", "--expires-in", "600");
        ToolResult badHost = Tl("server", "host-token", "create", "--data", _data, "--host", "bad host!");

        Assert.Equal(0, created.ExitCode);
        Assert.StartsWith(ServicePrincipals.JoinTokenPrefix, created.StandardOutput.Trim(), StringComparison.Ordinal);
        Assert.Contains("single use", created.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, badHost.ExitCode);
    }

    [Fact]
    public async Task HostRevoke_RevokesEveryCertificateOfTheHost_Audited_NoneInForceExit1()
    {
        var credentials = _app.Services.GetRequiredService<TrustedLaunch.Server.Security.Stores.IHostCredentialStore>();
        DateTimeOffset now = DateTimeOffset.UtcNow;
        await credentials.AddCertificateAsync("0A01", "hv7", now, now.AddDays(30), default);
        await credentials.AddCertificateAsync("0A02", "hv7", now, now.AddDays(30), default);
        await credentials.AddCertificateAsync("0B01", "hv8", now, now.AddDays(30), default);

        ToolResult revoked = Tl("server", "host", "revoke", "--data", _data, "--host", "hv7");
        ToolResult again = Tl("server", "host", "revoke", "--data", _data, "--host", "hv7");
        ToolResult badName = Tl("server", "host", "revoke", "--data", _data, "--host", "bad host!");
        ToolResult audit = Tl("server", "audit", "list", "--data", _data, "--json");

        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        Assert.Contains("Revoked 2 client certificate(s) of host hv7", revoked.StandardOutput, StringComparison.Ordinal);
        Assert.Null(await credentials.FindCertificateHostAsync("0A01", default));
        Assert.Null(await credentials.FindCertificateHostAsync("0A02", default));
        Assert.Equal("hv8", await credentials.FindCertificateHostAsync("0B01", default));
        Assert.Equal(1, again.ExitCode);
        Assert.Equal(2, badName.ExitCode);
        JsonElement[] events = JsonDocument.Parse(audit.StandardOutput).RootElement.EnumerateArray().ToArray();
        Assert.Contains(events, e => e.GetProperty("path").GetString() == "tl server host revoke --host hv7" && e.GetProperty("status").GetInt32() == 200
            && e.GetProperty("callerKind").GetString() == "cli");
    }

    [Fact]
    public void Server_NonLoopbackWithoutTlsAndAuth_Exit2WithTheReason()
    {
        ToolResult refused = Tl("server", "--data", Path.Combine(_data, "other"), "--listen", "http://0.0.0.0:0", "--no-local-host");

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("Refusing to listen on http://0.0.0.0:0", refused.StandardError, StringComparison.Ordinal);
    }
}
