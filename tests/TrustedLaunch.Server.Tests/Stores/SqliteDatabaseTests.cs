using Microsoft.Data.Sqlite;
using TrustedLaunch.Server.Stores.Sqlite;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>A store test over a fresh service database in a temporary folder, removed afterwards.</summary>
public abstract class SqliteDatabaseTests : IDisposable
{
    private readonly string _directory;

    protected SqliteDatabaseTests(string name)
    {
        _directory = RepositoryPaths.NewTempDirectory(name);
        Database = SqliteDatabase.Open(Path.Combine(_directory, "tl.db"));
    }

    protected SqliteDatabase Database { get; }

    public void Dispose()
    {
        Database.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        GC.SuppressFinalize(this);
    }
}
