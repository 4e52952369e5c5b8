using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using TrustedLaunch.Server.Security;
using TrustedLaunch.Server.Security.Stores;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Benchmarks.Server;

/// <summary>
/// What authentication adds to one request with <c>tl server --auth</c>, on a real SQLite file: the API key's principal
/// looked up by appId and its secret's hash compared in constant time, the request classified as Azure RBAC names it,
/// and (for a write) the audit record appended.
/// Run: dotnet run -c Release --project bench/TrustedLaunch.Benchmarks -- --filter '*RequestSecurityBenchmarks*' --job short
/// </summary>
[MemoryDiagnoser]
public class RequestSecurityBenchmarks
{
    private const string Path = "/subscriptions/6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1";
    private string _directory = "";
    private SqliteDatabase _database = null!;
    private SqlPrincipalStore _principals = null!;
    private SqlAuditLog _audit = null!;
    private Guid _appId;
    private string _secret = "";

    [GlobalSetup]
    public void Setup()
    {
        _directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"tl-security-bench-{Guid.NewGuid():N}");
        _database = SqliteDatabase.Open(System.IO.Path.Combine(_directory, "tl.db"));
        _principals = new SqlPrincipalStore(_database);
        _audit = new SqlAuditLog(_database);
        for (int i = 0; i < 1000; i++)
            ServicePrincipals.CreateAsync(_principals, $"p{i}", ServiceRole.Reader, "/", DateTimeOffset.UtcNow, default).GetAwaiter().GetResult();
        (PrincipalRecord principal, string key) = ServicePrincipals.CreateAsync(_principals, "bench", ServiceRole.Contributor, "/", DateTimeOffset.UtcNow, default)
            .GetAwaiter().GetResult();
        if (!ApiKeys.TryParse(key, out _appId, out _secret) || _appId != principal.AppId)
            throw new InvalidOperationException("key does not parse");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _database.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>The API key check of every authenticated request (1,001 principals in the table).</summary>
    [Benchmark]
    public async Task<bool> AuthenticateApiKey()
    {
        PrincipalRecord? principal = await _principals.FindByAppIdAsync(_appId, default);
        return principal is not null && ApiKeys.Matches(_secret, principal.SecretHash);
    }

    [Benchmark]
    public RequiredAccess Classify() => RequiredAccess.Classify("PUT", Path);

    /// <summary>The audit record every write appends.</summary>
    [Benchmark]
    public Task AppendAudit() => _audit.AppendAsync(new AuditEvent(0, DateTimeOffset.UtcNow, "bench", "ServicePrincipal", "PUT", Path, 201, "Succeeded", "127.0.0.1"), default);
}
