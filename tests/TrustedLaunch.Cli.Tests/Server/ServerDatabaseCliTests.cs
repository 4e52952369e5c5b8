using System.Text.Json;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Postgres;

namespace TrustedLaunch.Cli.Tests.Server;

/// <summary>
/// <c>tl server vm|policy|principal|audit|host-token --database</c> against a real PostgreSQL database (a throw-away
/// cluster): what they write is what the replicas read, and a database that cannot be reached is exit 3.
/// </summary>
[IntegrationTest]
public sealed class ServerDatabaseCliTests : IDisposable
{
    private readonly PostgresCluster _cluster = new();
    private readonly string _database;

    public ServerDatabaseCliTests() => _database = _cluster.ConnectionString(_cluster.CreateDatabase("cli"));

    public void Dispose() => _cluster.Dispose();

    private static ToolResult Tl(params string[] args) => TlRun.InProcess(args);

    [Fact]
    public async Task VmPolicyPrincipalAndAudit_WriteAndReadThePostgresDatabase()
    {
        string vm = Guid.NewGuid().ToString();
        string policy = Path.Combine(RepositoryPaths.NewTempDirectory("tl-db-cli"), "p.json");
        await File.WriteAllTextAsync(policy, """{"name":"strict","requireDefaultSecureBootKeys":true}""");

        ToolResult policyAdded = Tl("server", "policy", "add", "--file", policy, "--database", _database);
        ToolResult vmAdded = Tl("server", "vm", "add", "--vm-id", vm, "--policy", "strict", "--database", _database);
        ToolResult vms = Tl("server", "vm", "list", "--database", _database, "--json");
        ToolResult principal = Tl("server", "principal", "create", "--database", _database, "--name", "ci", "--role", "Reader", "--scope", "/", "--json");
        ToolResult principals = Tl("server", "principal", "list", "--database", _database, "--json");
        ToolResult token = Tl("server", "host-token", "create", "--database", _database, "--host", "hv1");
        ToolResult revoke = Tl("server", "host", "revoke", "--database", _database, "--host", "hv1");
        ToolResult audit = Tl("server", "audit", "list", "--database", _database, "--json");

        Assert.True(policyAdded.ExitCode == 0, policyAdded.ToString());
        Assert.True(vmAdded.ExitCode == 0, vmAdded.ToString());
        Assert.Contains(vm, vms.StandardOutput, StringComparison.Ordinal);
        Assert.True(principal.ExitCode == 0, principal.ToString());
        string appId = JsonDocument.Parse(principal.StandardOutput).RootElement.GetProperty("appId").GetString()!;
        Assert.Contains(appId, principals.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(0, token.ExitCode);
        Assert.Equal(1, revoke.ExitCode); // enrolled nothing yet
        Assert.Contains("tl server host revoke --host hv1", audit.StandardOutput, StringComparison.Ordinal);

        // The same rows through the store a replica opens.
        using StoreDatabase replica = StoreDatabase.Open(_database);
        Assert.Contains(await new SqlVmRegistry(replica).ListAsync(default), r => r.VmId == Guid.Parse(vm) && r.PolicyName == "strict");
        Directory.Delete(Path.GetDirectoryName(policy)!, recursive: true);
    }

    [Fact]
    public void UnreachableDatabase_Exit3()
    {
        ToolResult refused = Tl("server", "vm", "list", "--database", "Host=127.0.0.1;Port=9;Database=none;Username=tl;Timeout=2");

        Assert.Equal(3, refused.ExitCode);
    }
}
