using TrustedLaunch.HostSystem;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Security.Stores;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Cli.Commands.Server;

/// <summary>
/// The attestation service's VM registry and policies, through the store interfaces the service itself uses, for the
/// <c>tl server vm|policy|principal|audit|host</c> commands that write them directly (WAL: safe while <c>tl server</c> runs). The one place
/// the CLI picks the database (SQLite file, or PostgreSQL with <c>--database</c>), as <c>AttestationServiceHost</c> does for the service.
/// </summary>
internal sealed class ServiceData : IDisposable
{
    private readonly StoreDatabase _database;

    private ServiceData(StoreDatabase database)
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

    /// <summary>
    /// The service database, opened and migrated: the PostgreSQL database of <paramref name="database"/> (a connection
    /// string, as <c>tl server --database</c> takes) or the SQLite file in <paramref name="dataDirectory"/> (default TL_HOME).
    /// </summary>
    public static ServiceData Open(string? dataDirectory, string? database = null)
    {
        if (database is not null)
            return new ServiceData(StoreDatabase.Open(database));
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
