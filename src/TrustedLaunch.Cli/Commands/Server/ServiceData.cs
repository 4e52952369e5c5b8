using TrustedLaunch.HostSystem;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Security.Stores;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Cli.Commands.Server;

/// <summary>
/// The attestation service's VM registry and policies, through the store interfaces the service itself uses, for the
/// <c>tl server vm|policy</c> commands that write them directly (WAL: safe while <c>tl server</c> runs). The one place
/// the CLI picks the SQLite implementation, as <c>AttestationServiceHost</c> does for the service.
/// </summary>
internal sealed class ServiceData : IDisposable
{
    private readonly SqliteDatabase _database;

    private ServiceData(SqliteDatabase database)
    {
        _database = database;
        Vms = new SqlVmRegistry(database);
        Policies = new SqlPolicyStore(database);
        Principals = new SqlPrincipalStore(database);
        HostCredentials = new SqlHostCredentialStore(database);
        Audit = new SqlAuditLog(database);
    }

    public IVmRegistry Vms { get; }

    public IPolicyStore Policies { get; }

    public IPrincipalStore Principals { get; }

    public IHostCredentialStore HostCredentials { get; }

    public IAuditLog Audit { get; }

    /// <summary>The service database in <paramref name="dataDirectory"/> (default TL_HOME), opened and migrated.</summary>
    public static ServiceData Open(string? dataDirectory)
    {
        string data = Path.GetFullPath(dataDirectory ?? TlHome.Path);
        try
        {
            return new ServiceData(SqliteDatabase.Open(Path.Combine(data, AttestationServiceOptions.DatabaseFileName)));
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CliException(ExitCode.EnvironmentProblem, $"Cannot create {data}: {e.Message}");
        }
    }

    public void Dispose() => _database.Dispose();
}
